import time, pickle, sys, numpy as np, torch
from torch import nn
from pathlib import Path
from vsdmot.eval.graded_frames import rank_by_type
from vsdmot.semantics import QualityConfig, QualityHead
torch.set_num_threads(1)
mode=sys.argv[1]; steps=int(sys.argv[2]); lr=float(sys.argv[3]); clean_w=float(sys.argv[4]); seed=int(sys.argv[5]) if len(sys.argv)>5 else 0
Xt=torch.load('/tmp/q/Xt.pt'); Xv=torch.load('/tmp/q/Xv.pt')
Ft=torch.load('/tmp/q/F_train.pt'); Fv=torch.load('/tmp/q/F_tud.pt')
gt=pickle.load(open('/tmp/q/train_graded.pkl','rb')); gt.views=[]
gv=pickle.load(open('/tmp/q/tud_graded.pkl','rb')); gv.views=[]
yt=torch.tensor(gt.labels).float(); kt=np.array(gt.types)
mu,sd=Ft.mean(0),Ft.std(0)+1e-3
class H(nn.Module):
    def __init__(s):
        super().__init__()
        s.base=QualityHead(QualityConfig())
        n=18 if mode!='conv' else 0
        c=48
        s.mlp=nn.Sequential(nn.Linear(2*c+8+n,32),nn.ReLU(),nn.Linear(32,1))
    def forward(s,x,f):
        b=s.base; h=b.convs(x)
        st=[h.mean((2,3)),h.std((2,3)),x.mean((2,3)),x.std((2,3))]
        if mode=='stats_only': st=[0*t for t in st]
        if mode!='conv': st.append((f-mu)/sd)
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
    with torch.no_grad(): s=torch.sigmoid(head(Xv.float(),Fv)).numpy()
    head.train()
    rows=rank_by_type(s,gv)
    for r in rows:
        print(f"  {r.type:15s} {r.spearman:6.3f} " + " ".join(f"{r.medians[k]:.3f}" for k in sorted(r.medians)), r.falls())
    print("  min spearman", min(r.spearman for r in rows), "falls", sum(r.falls() for r in rows))
for step in range(steps):
    idx=rng.choice(len(yt),64,p=w)
    loss=QualityHead.loss(head(Xt[idx].float(),Ft[idx]), yt[idx])
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    if (step+1)%(steps//2)==0:
        print(step+1, loss.item(), time.time()-t0); evaluate()
