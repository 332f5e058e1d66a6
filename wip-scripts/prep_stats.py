import pickle, sys, torch, time, numpy as np, json
sys.path.insert(0,'/tmp/q')
from stats import stats
from vsdmot.eval.frame_quality import unit_rgb
torch.set_num_threads(1)
t0=time.time()
if sys.argv[1]=='tud':
    g=pickle.load(open('/tmp/q/tud_graded.pkl','rb')); x=torch.stack([stats(unit_rgb(v)) for v in g.views]); torch.save(x,'/tmp/q/S_tud.pt')
else:
    V=np.load(sys.argv[1]+'.npy',mmap_mode='r'); n=json.load(open(sys.argv[1]+'.json'))['n']
    x=torch.stack([stats(unit_rgb(np.asarray(V[i]))) for i in range(n)]); torch.save(x,sys.argv[1]+'_S.pt')
print(x.shape,time.time()-t0)
