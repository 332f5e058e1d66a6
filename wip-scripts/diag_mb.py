import sys, torch, numpy as np
sys.path.insert(0,'/tmp/q')
from pathlib import Path
from torch import nn
from feat2 import prepare
from vsdmot.eval.graded_frames import read_frames, spread
from vsdmot.eval.frame_quality import unit_rgb, model_view
from vsdmot.degrade import Degrader
from vsdmot.degrade.base import sequence_key
torch.set_num_threads(1)
cin=6
class H(nn.Module):
    def __init__(s):
        super().__init__()
        L=[];c0=cin
        for c in (16,32,48): L+=[nn.Conv2d(c0,c,3,stride=2,padding=1),nn.ReLU()]; c0=c
        s.convs=nn.Sequential(*L)
        s.mlp=nn.Sequential(nn.Linear(2*48+2*cin,32),nn.ReLU(),nn.Linear(32,1))
    def forward(s,x):
        h=s.convs(x); return s.mlp(torch.cat([h.mean((2,3)),h.std((2,3)),x.mean((2,3)),x.std((2,3))],1)).squeeze(-1)
h=H(); h.load_state_dict(torch.load(sys.argv[1])); h.eval()
fr=read_frames(Path('/work/shared/data/mot15/TUD-Stadtmitte'), spread(1,179,8))
def q(imgs):
    with torch.no_grad(): return float(torch.sigmoid(h(prepare([unit_rgb(model_view(i,288,512)) for i in imgs]))).median())
print('clean', q([f for _,f in fr]))
for seed in range(500,512):
    d=Degrader('motion_blur',(640,480),seed=seed,key=sequence_key('TUD-Stadtmitte'))
    print(seed, {k:(round(v,1) if isinstance(v,float) else v) for k,v in d.params.items()}, [round(q([d.frame(f,t,s) for t,f in fr]),3) for s in (1,3,5)])
