import time, pickle, sys, numpy as np, torch, cv2
sys.path.insert(0,'/tmp/q')
from pathlib import Path
from vsdmot.eval.graded_frames import grade_frames, read_frames, spread
from vsdmot.eval.frame_quality import unit_rgb
from vsdmot.degrade.registry import single_types
from vsdmot.data.synth import generate_dataset
from vsdmot.semantics import QualityConfig, QualityHead
from feat2 import prepare as prep2
torch.set_num_threads(1)
head=QualityHead(QualityConfig())
rng=np.random.default_rng(0)
def augment(imgs):
    h,w=imgs[0].shape[:2]
    a=rng.uniform(0.45,1.0); ch,cw=int(h*a**0.5),int(w*a**0.5)
    y,x=rng.integers(0,h-ch+1),rng.integers(0,w-cw+1)
    long=rng.uniform(480,800); s=long/max(ch,cw)
    flip=rng.random()<0.5; hue=rng.integers(0,180); sat=rng.uniform(0.6,1.3)
    out=[]
    for im in imgs:
        c=im[y:y+ch,x:x+cw]
        c=cv2.resize(c,(round(cw*s),round(ch*s)),interpolation=cv2.INTER_AREA if s<1 else cv2.INTER_LINEAR)
        if flip: c=c[:,::-1]
        hsv=cv2.cvtColor(np.ascontiguousarray(c),cv2.COLOR_BGR2HSV).astype(np.int32)
        hsv[...,0]=(hsv[...,0]+hue)%180; hsv[...,1]=np.clip(hsv[...,1]*sat,0,255)
        out.append(cv2.cvtColor(hsv.astype(np.uint8),cv2.COLOR_HSV2BGR))
    return out
X1,X2,Y,K,S=[],[],[],[],[]
def add(g):
    with torch.no_grad():
        for i in range(0,len(g),64):
            u=[unit_rgb(v) for v in g.views[i:i+64]]
            X1.append(head.prepare(u).half()); X2.append(prep2(u).half())
    Y.extend(g.labels); K.extend(g.types); S.extend(g.severities)
t0=time.time()
pets=Path('/work/shared/data/mot15/PETS09-S2L1')
starts=spread(1,590,24)
for c,st in enumerate(starts):
    fr=read_frames(pets,[st+2*j for j in range(5)])
    imgs=augment([f for _,f in fr])
    g=grade_frames([(t,im) for (t,_),im in zip(fr,imgs)],'PETS09-S2L1',single_types(),[1,2,3,4,5],(288,512),seed=1000+37*c)
    add(g); print(c,len(Y),time.time()-t0,flush=True)
seqs=generate_dataset(Path('/tmp/q/synth8'),8,40,seed=400,progress=False,overwrite=True)
for i,sd in enumerate(seqs):
    f=read_frames(sd, spread(1,40,6))
    add(grade_frames(f,sd.name,single_types(),[1,2,3,4,5],(288,512),seed=5000+37*i)); print(sd.name,len(Y),time.time()-t0,flush=True)
torch.save(dict(X1=torch.cat(X1),X2=torch.cat(X2),y=torch.tensor(Y),types=K,sev=S),'/tmp/q/aug.pt')
