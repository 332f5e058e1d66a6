import pickle, sys, torch, time, numpy as np, json
sys.path.insert(0,'/tmp/q')
from feat2 import prepare3
from vsdmot.eval.frame_quality import unit_rgb
torch.set_num_threads(1)
V=np.load('/tmp/q/views.npy',mmap_mode='r'); n=json.load(open('/tmp/q/views.json'))['n']
t0=time.time()
x=torch.cat([prepare3([unit_rgb(np.asarray(v)) for v in V[i:min(i+64,n)]]).half() for i in range(0,n,64)])
torch.save(x,'/tmp/q/X3t.pt'); print(x.shape,time.time()-t0)
g=pickle.load(open('/tmp/q/tud_graded.pkl','rb'))
x=torch.cat([prepare3([unit_rgb(v) for v in g.views[i:i+64]]).half() for i in range(0,len(g),64)])
torch.save(x,'/tmp/q/X3v.pt'); print(x.shape, x.float().mean((0,2,3)))
