import torch, torch.nn.functional as F
_LUMA=(0.299,0.587,0.114)
_DIRS=(((0,0,0),(0,-1,1),(0,0,0)),((0,0,0),(0,-1,0),(0,1,0)),((0,0,0),(0,-1,0),(0,0,1)),((0,0,0),(0,-1,0),(1,0,0)))
def _dir_energy(luma,k):
    d=F.conv2d(F.pad(luma,(1,1,1,1),mode='replicate'),k).abs()
    return torch.log(d.mean((2,3))[0]+1e-4)
def aniso(image):
    luma=(image*image.new_tensor(_LUMA)[:,None,None]).sum(0)[None,None]
    k=image.new_tensor(_DIRS)[:,None]
    r=_dir_energy(luma,k)-_dir_energy(F.avg_pool2d(luma,2),k)
    return torch.stack([r.min(),r.max()])
