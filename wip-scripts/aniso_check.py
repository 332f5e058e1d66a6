import pickle, sys, torch, numpy as np
sys.path.insert(0,'/tmp/q')
from aniso import _dir_energy, _DIRS, _LUMA
import torch.nn.functional as F
from vsdmot.eval.frame_quality import unit_rgb
g=pickle.load(open('/tmp/q/tud_graded.pkl','rb'))
k=np.array(g.types); s=np.array(g.severities)
def e(v,sc):
    image=unit_rgb(v); luma=(image*image.new_tensor(_LUMA)[:,None,None]).sum(0)[None,None]
    if sc>1: luma=F.avg_pool2d(luma,sc)
    return _dir_energy(luma,image.new_tensor(_DIRS)[:,None])
for t in ('clean','motion_blur','defocus_blur'):
    for sv in (0,1,3,5):
        m=np.flatnonzero((k==t)&(s==sv))
        if len(m):
            for sc in (1,4):
                E=torch.stack([e(g.views[i],sc) for i in m[:8]]).mean(0)
                print(t,sv,sc,E.numpy().round(2), round(float(E.min()-E.max()),2))
