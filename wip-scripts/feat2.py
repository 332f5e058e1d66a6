import torch, torch.nn.functional as F
from vsdmot.semantics.preprocess import batch_resize
_LUMA=(0.299,0.587,0.114)
_CB=(-0.168736,-0.331264,0.5); _CR=(0.5,-0.418688,-0.081312)
_LAP=((0.,1.,0.),(1.,-4.,1.),(0.,1.,0.))
def lap_energy(plane, size, k):
    lap=F.conv2d(F.pad(plane,(1,1,1,1),mode='replicate'),k).abs()
    if lap.shape[1]>1: lap=lap.sum(1,keepdim=True)
    return torch.log(F.adaptive_avg_pool2d(lap,size)+1e-3)[0]
def energies(image,size):
    k=image.new_tensor(_LAP)[None,None]
    w=image.new_tensor((_LUMA,_CB,_CR))
    ycc=torch.einsum('ck,khw->chw',w,image)[None]
    luma=ycc[:,:1]; chroma=ycc[:,1:]
    e1=lap_energy(luma,size,k)
    e2=lap_energy(F.avg_pool2d(luma,2),size,k)
    ec=lap_energy(chroma.reshape(2,1,*chroma.shape[-2:]).sum(0,keepdim=True)*0+chroma[:, :1],size,k)  # placeholder
    return e1,e2,ec
def energies2(image,size):
    k=image.new_tensor(_LAP)[None,None]
    w=image.new_tensor((_LUMA,_CB,_CR))
    ycc=torch.einsum('ck,khw->chw',w,image)
    luma=ycc[None,:1]
    e1=lap_energy(luma,size,k)
    e2=lap_energy(F.avg_pool2d(luma,2),size,k)
    lc=F.conv2d(F.pad(ycc[1:,None],(1,1,1,1),mode='replicate'),k).abs().sum(0,keepdim=True)
    ec=torch.log(F.adaptive_avg_pool2d(lc,size)+1e-3)[0]
    return torch.cat([e1,e2,ec])
def prepare(crops,size=64):
    rgb=batch_resize(crops,size)
    e=torch.stack([energies2(c,size) for c in crops])
    return torch.cat([rgb*2-1,(e+3)/2],1)

_DIRS=(((0,0,0),(0,-1,1),(0,0,0)),((0,0,0),(0,-1,0),(0,1,0)),((0,0,0),(0,-1,0),(0,0,1)),((0,0,0),(0,-1,0),(1,0,0)))
def emin(image,size):
    luma=(image*image.new_tensor(_LUMA)[:,None,None]).sum(0)[None,None]
    k=image.new_tensor(_DIRS)[:,None]
    d=F.conv2d(F.pad(luma,(1,1,1,1),mode='replicate'),k).abs()
    p=torch.log(F.adaptive_avg_pool2d(d,size)+1e-3)[0]
    return torch.stack([p.min(0).values,p.max(0).values])
def prepare3(crops,size=64):
    base=prepare(crops,size)
    e=torch.stack([emin(c,size) for c in crops])
    return torch.cat([base,(e+3)/2],1)
