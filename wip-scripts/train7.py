import time, pickle, sys, numpy as np, torch
from torch import nn
from vsdmot.eval.graded_frames import rank_by_type
from vsdmot.semantics import QualityHead
torch.set_num_threads(1)
chans=[int(c) for c in sys.argv[1].split(',')]; steps=int(sys.argv[2]); lr=float(sys.argv[3]); pc=float(sys.argv[4]); seed=int(sys.argv[5]); wd=float(sys.argv[6]) if len(sys.argv)>6 else 1e-4
extra=False
import json; M=json.load(open('/tmp/q/views.json')); Xt=torch.load('/tmp/q/X3t.pt')[:,chans]; yt=torch.tensor(M['y']).float(); kt=np.array(M['types'])
if extra:
    E=torch.load('/tmp/q/clean_extra.pt')[:,chans]
    Xt=torch.cat([Xt,E]); yt=torch.cat([yt,torch.ones(len(E))]); kt=np.concatenate([kt,['clean']*len(E)])
Xv=torch.load('/tmp/q/X3v.pt')[:,chans]
gv=pickle.load(open('/tmp/q/tud_graded.pkl','rb')); gv.views=[]
cin=len(chans)
class H(nn.Module):
    def __init__(s):
        super().__init__()
        L=[];c0=cin
        for c in (16,32,48): L+=[nn.Conv2d(c0,c,3,stride=2,padding=1),nn.ReLU()]; c0=c
        s.convs=nn.Sequential(*L)
        s.mlp=nn.Sequential(nn.Linear(2*48+2*cin,32),nn.ReLU(),nn.Linear(32,1))
    def forward(s,x):
        h=s.convs(x); return s.mlp(torch.cat([h.mean((2,3)),h.std((2,3)),x.mean((2,3)),x.std((2,3))],1)).squeeze(-1)
torch.manual_seed(seed)
head=H(); head.train()
clean=np.flatnonzero(kt=='clean'); deg=np.flatnonzero(kt!='clean')
rng=np.random.default_rng(seed)
opt=torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=wd)
sched=torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
t0=time.time()
def evaluate():
    head.eval()
    with torch.no_grad(): s=torch.sigmoid(head(Xv.float())).numpy()
    head.train()
    rows=rank_by_type(s,gv)
    for r in rows:
        if not r.falls() or r.spearman<0.8: print(f"  {r.type:15s} {r.spearman:6.3f} " + " ".join(f"{r.medians[k]:.3f}" for k in sorted(r.medians)), r.falls())
    print("  min spearman %.3f falls %d clean %.3f"%(min(r.spearman for r in rows), sum(r.falls() for r in rows), rows[0].medians[0]))
nc=int(round(64*pc))
for step in range(steps):
    idx=np.concatenate([rng.choice(clean,nc),rng.choice(deg,64-nc)])
    loss=QualityHead.loss(head(Xt[idx].float()), yt[idx])
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    if (step+1)%(steps//2)==0 and (step+1==steps or '-v' in sys.argv):
        print(step+1, "%.3f"%loss.item(), int(time.time()-t0)); evaluate()

torch.save(head.state_dict(),f'/tmp/q/head_{sys.argv[1]}_{seed}.pt')
