import time, sys, numpy as np, torch
sys.path.insert(0,'/tmp/q')
from pathlib import Path
exec(open('/tmp/q/build_aug.py').read().split("t0=time.time()")[0].replace("rng=np.random.default_rng(0)","rng=np.random.default_rng(77)"))
t0=time.time()
pets=Path('/work/shared/data/mot15/PETS09-S2L1')
from vsdmot.data.sequence import MOTSequence
from vsdmot.eval.frame_quality import model_view
seq=MOTSequence(pets)
views=[]
for t in range(1,601,1):
    views.append(model_view(augment([seq.frame(t)])[0],288,512))
for sd in sorted(Path('/tmp/q/synth8').iterdir()):
    if not (sd/'seqinfo.ini').exists(): continue
    s2=MOTSequence(sd)
    for t in range(1,41,2): views.append(model_view(augment([s2.frame(t)])[0],288,512))
with torch.no_grad():
    X=torch.cat([prep2([unit_rgb(v) for v in views[i:i+64]]).half() for i in range(0,len(views),64)])
print(X.shape, time.time()-t0)
torch.save(X,'/tmp/q/clean_extra.pt')
