import pickle, sys, torch, time, numpy as np, json
sys.path.insert(0,'/tmp/q')
from aniso2 import aniso2 as aniso
from vsdmot.eval.frame_quality import unit_rgb
torch.set_num_threads(1)
t0=time.time()
g=pickle.load(open('/tmp/q/tud_graded.pkl','rb')); x=torch.stack([aniso(unit_rgb(v)) for v in g.views]); torch.save(x,'/tmp/q/A2_tud.pt')
print(x.shape,time.time()-t0)
k=np.array(g.types); s=np.array(g.severities)
for t in ('clean','motion_blur','defocus_blur','gaussian_noise'):
    for sv in (0,1,3,5):
        m=(k==t)&(s==sv)
        if m.any(): print(t,sv,x[m].mean(0))
V=np.load('/tmp/q/views.npy',mmap_mode='r'); n=json.load(open('/tmp/q/views.json'))['n']
x=torch.stack([aniso(unit_rgb(np.asarray(V[i]))) for i in range(n)]); torch.save(x,'/tmp/q/views_A2.pt')
print(x.shape,time.time()-t0)
