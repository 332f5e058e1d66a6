import time, pickle, sys, numpy as np, torch
from torch import nn
from vsdmot.eval.graded_frames import rank_by_type
from vsdmot.semantics import QualityConfig, QualityHead
torch.set_num_threads(1)
mode=sys.argv[1]; steps=int(sys.argv[2]); lr=float(sys.argv[3]); clean_w=float(sys.argv[4]); seed=int(sys.argv[5]) if len(sys.argv)>5 else 0
C=int(sys.argv[6]) if len(sys.argv)>6 else 128
Xt=torch.load('/tmp/q/Xt.pt'); Xv=torch.load('/tmp/q/Xv.pt')
Ct=torch.load('/tmp/q/C_train.pt'); Cv=torch.load('/tmp/q/C_tud.pt')
gt=pickle.load(open('/tmp/q/train_graded.pkl','rb')); gt.views=[]
gv=pickle.load(open('/tmp/q/tud_graded.pkl','rb')); gv.views=[]
yt=torch.tensor(gt.labels).float(); kt=np.array(gt.types)
o=(160-C)//2; Cv=Cv[:,:,o:o+C,o:o+C]
class H(nn.Module):
    def __init__(s):
        super().__init__()
        s.base=QualityHead(QualityConfig())
        s.crop=nn.Sequential(nn.Conv2d(1,16,3,padding=1),nn.ReLU(),nn.Conv2d(16,32,3,stride=2,padding=1),nn.ReLU(),nn.Conv2d(32,32,3,stride=2,padding=1),nn.ReLU())
        n=0 if mode=='crop_only' else 2*48+8
        s.mlp=nn.Sequential(nn.Linear(n+64,32),nn.ReLU(),nn.Linear(32,1))
    def forward(s,x,c):
        st=[]
        if mode!='crop_only':
            h=s.base.convs(x); st=[h.mean((2,3)),h.std((2,3)),x.mean((2,3)),x.std((2,3))]
        z=s.crop(c*2-1); st+=[z.mean((2,3)),z.std((2,3))]
        return s.mlp(torch.cat(st,1)).squeeze(-1)
torch.manual_seed(seed)
head=H(); head.train()
w=np.where(kt=='clean', clean_w, 1.0); w=w/w.sum()
rng=np.random.default_rng(seed)
opt=torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
sched=torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
t0=time.time()
def evaluate():
    head.eval()
    with torch.no_grad(): s=torch.sigmoid(head(Xv.float(),Cv.float())).numpy()
    head.train()
    rows=rank_by_type(s,gv)
    for r in rows:
        print(f"  {r.type:15s} {r.spearman:6.3f} " + " ".join(f"{r.medians[k]:.3f}" for k in sorted(r.medians)), r.falls())
    print("  min spearman", min(r.spearman for r in rows), "falls", sum(r.falls() for r in rows))
for step in range(steps):
    idx=rng.choice(len(yt),64,p=w)
    a,b=rng.integers(0,160-C+1,2)
    c=Ct[idx][:,:,a:a+C,b:b+C].float()
    loss=QualityHead.loss(head(Xt[idx].float(),c), yt[idx])
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    if (step+1)%(steps//2)==0:
        print(step+1, loss.item(), time.time()-t0); evaluate()
