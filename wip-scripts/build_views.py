import time, sys, numpy as np, torch, cv2, json
sys.path.insert(0,'/tmp/q')
from pathlib import Path
from vsdmot.eval.graded_frames import grade_frames, read_frames, spread
from vsdmot.eval.frame_quality import model_view
from vsdmot.degrade.registry import single_types
from vsdmot.data.sequence import MOTSequence
torch.set_num_threads(1)
src=open('/tmp/q/build_aug.py').read()
exec(src[src.index('def augment'):src.index('X1,X2')])
N=10168+100
V=np.lib.format.open_memmap('/tmp/q/views.npy',mode='w+',dtype=np.uint8,shape=(N,288,384,3))
meta=dict(y=[],types=[],sev=[])
def put(views,types,labels,sevs):
    n=len(meta['y'])
    for i,v in enumerate(views): V[n+i]=v if v.shape==(288,384,3) else cv2.resize(v,(384,288),interpolation=cv2.INTER_AREA)
    meta['y']+=list(labels); meta['types']+=list(types); meta['sev']+=list(sevs)
t0=time.time()
rng=np.random.default_rng(0)
pets=Path('/work/shared/data/mot15/PETS09-S2L1')
for c,st in enumerate(spread(1,590,24)):
    fr=read_frames(pets,[st+2*j for j in range(5)])
    imgs=augment([f for _,f in fr])
    g=grade_frames([(t,im) for (t,_),im in zip(fr,imgs)],'PETS09-S2L1',single_types(),[1,2,3,4,5],(288,512),seed=1000+37*c)
    put(g.views,g.types,g.labels,g.severities)
print(len(meta['y']),time.time()-t0,flush=True)
seqs=sorted(p for p in Path('/tmp/q/synth8').iterdir() if (p/'seqinfo.ini').exists())
for i,sd in enumerate(seqs):
    f=read_frames(sd, spread(1,40,6))
    g=grade_frames(f,sd.name,single_types(),[1,2,3,4,5],(288,512),seed=5000+37*i)
    put(g.views,g.types,g.labels,g.severities)
print(len(meta['y']),time.time()-t0,flush=True)
rng=np.random.default_rng(77)
seq=MOTSequence(pets); vs=[]
for t in range(1,601): vs.append(model_view(augment([seq.frame(t)])[0],288,512))
for sd in seqs:
    s2=MOTSequence(sd)
    for t in range(1,41,2): vs.append(model_view(augment([s2.frame(t)])[0],288,512))
put(vs,['clean']*len(vs),[1.0]*len(vs),[0.0]*len(vs))
meta['n']=len(meta['y']); print(meta['n'],time.time()-t0)
json.dump(meta,open('/tmp/q/views.json','w'))
