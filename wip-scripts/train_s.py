import time, pickle, sys, os, json, numpy as np, torch
from torch import nn
from vsdmot.eval.graded_frames import rank_by_type
from vsdmot.semantics import QualityHead
torch.set_num_threads(1)
DATA=sys.argv[1]; steps=int(sys.argv[2]); lr=float(sys.argv[3]); pc=float(sys.argv[4]); seed=int(sys.argv[5]); hid=int(sys.argv[6]); wd=float(sys.argv[7])
cols=slice(None) if len(sys.argv)<=8 else [int(c) for c in sys.argv[8].split(',')]
M=json.load(open(DATA+'.json')); St=torch.load(DATA+'_S.pt')[:,cols]; yt=torch.tensor(M['y']).float(); kt=np.array(M['types'])
Sv=torch.load('/tmp/q/S_tud.pt')[:,cols]
gv=pickle.load(open('/tmp/q/tud_graded.pkl','rb')); gv.views=[]
mu,sd=St.mean(0),St.std(0)+1e-3
torch.manual_seed(seed)
head=nn.Sequential(nn.Linear(St.shape[1],hid),nn.ReLU(),nn.Linear(hid,hid),nn.ReLU(),nn.Linear(hid,1))
clean=np.flatnonzero(kt=='clean'); deg=np.flatnonzero(kt!='clean')
rng=np.random.default_rng(seed)
opt=torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=wd)
sched=torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
def evaluate():
    with torch.no_grad(): s=torch.sigmoid(head((Sv-mu)/sd)[:,0]).numpy()
    rows=rank_by_type(s,gv)
    for r in rows:
        if not r.falls() or r.spearman<0.8: print(f"  {r.type:15s} {r.spearman:6.3f} " + " ".join(f"{r.medians[k]:.3f}" for k in sorted(r.medians)), r.falls())
    print("  min spearman %.3f falls %d clean %.3f"%(min(r.spearman for r in rows), sum(r.falls() for r in rows), rows[0].medians[0]))
nc=int(round(64*pc))
for step in range(steps):
    idx=np.concatenate([rng.choice(clean,nc),rng.choice(deg,64-nc)])
    loss=QualityHead.loss(head((St[idx]-mu)/sd)[:,0], yt[idx])
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
evaluate()
