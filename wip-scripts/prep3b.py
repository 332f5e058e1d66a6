import pickle, sys, torch, time, numpy as np, json
sys.path.insert(0,'/tmp/q')
from feat2 import prepare3
from vsdmot.eval.frame_quality import unit_rgb
torch.set_num_threads(1)
V=np.load(sys.argv[1]+'.npy',mmap_mode='r'); n=json.load(open(sys.argv[1]+'.json'))['n']
t0=time.time()
x=torch.cat([prepare3([unit_rgb(np.asarray(v)) for v in V[i:min(i+64,n)]]).half() for i in range(0,n,64)])
torch.save(x,sys.argv[1]+'_X.pt'); print(x.shape,time.time()-t0)
