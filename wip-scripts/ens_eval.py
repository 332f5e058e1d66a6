import sys, pickle, itertools, torch, numpy as np
from torch import nn
from vsdmot.eval.graded_frames import rank_by_type
torch.set_num_threads(1)
seeds=[int(s) for s in sys.argv[1].split(',')]
Xv=torch.load('/tmp/q/X3v.pt')[:,:6]; Av=torch.load('/tmp/q/A2_tud.pt').half()
Xv=torch.cat([Xv,Av[:,:,None,None].expand(-1,-1,64,64)],1).float()
gv=pickle.load(open('/tmp/q/tud_graded.pkl','rb')); gv.views=[]
cin=10
class H(nn.Module):
    def __init__(s):
        super().__init__()
        L=[];c0=cin
        for c in (16,32,48): L+=[nn.Conv2d(c0,c,3,stride=2,padding=1),nn.ReLU()]; c0=c
        s.convs=nn.Sequential(*L)
        s.mlp=nn.Sequential(nn.Linear(2*48+2*cin,32),nn.ReLU(),nn.Linear(32,1))
    def forward(s,x):
        h=s.convs(x); return s.mlp(torch.cat([h.mean((2,3)),h.std((2,3)),x.mean((2,3)),x.std((2,3))],1)).squeeze(-1)
L={}
for sd in seeds:
    h=H(); h.load_state_dict(torch.load(f'/tmp/q/ema_a2_{sd}.pt')); h.eval()
    with torch.no_grad(): L[sd]=h(Xv)
def show(members):
    q=torch.sigmoid(torch.stack([L[m] for m in members]).mean(0)).numpy()
    rows=rank_by_type(q,gv)
    bad=[f"{r.type}:{r.spearman:.2f}:"+"/".join(f"{r.medians[k]:.3f}" for k in sorted(r.medians)) for r in rows if not r.falls() or r.spearman<0.8]
    print(members, "min %.3f falls %d clean %.3f"%(min(r.spearman for r in rows), sum(r.falls() for r in rows), rows[0].medians[0]), bad)
for k in (1,3,len(seeds)):
    for c in itertools.combinations(seeds,k): show(c)
