import torch, torch.nn.functional as F
_LUMA=(0.299,0.587,0.114); _CB=(-0.168736,-0.331264,0.5); _CR=(0.5,-0.418688,-0.081312)
_LAP=((0.,1.,0.),(1.,-4.,1.),(0.,1.,0.))
_DIRS=(((0,0,0),(0,-1,1),(0,0,0)),((0,0,0),(0,-1,0),(0,1,0)),((0,0,0),(0,-1,0),(0,0,1)),((0,0,0),(0,-1,0),(1,0,0)))
Q5=(0.05,0.25,0.5,0.75,0.95); Q3=(0.1,0.5,0.9)
def _q(x,qs): return torch.quantile(x.flatten().float(), x.new_tensor(qs))
def _energy(plane,k,cell=4):
    lap=F.conv2d(F.pad(plane,(1,1,1,1),mode='replicate'),k).abs().sum(1,keepdim=True)
    return torch.log(F.avg_pool2d(lap,cell)+1e-3)
def stats(image):
    w=image.new_tensor((_LUMA,_CB,_CR)); ycc=torch.einsum('ck,khw->chw',w,image)
    luma=ycc[None,:1]; k=image.new_tensor(_LAP)[None,None]
    f=[]
    for s in (1,2,4):
        l=F.avg_pool2d(luma,s) if s>1 else luma
        f.append(_q(_energy(l,k),Q5))
    f.append(_q(_energy(ycc[1:,None].transpose(0,1),k.expand(1,2,3,3).contiguous()[:, :1].repeat(1,1,1,1) if False else k,4) if False else _q(_energy(ycc[None,1:2],k),Q3)+0, Q3) if False else _q(torch.log(F.avg_pool2d(F.conv2d(F.pad(ycc[1:,None],(1,1,1,1),mode='replicate'),k).abs().sum(0,keepdim=True),4)+1e-3),Q3))
    f.append(_q(luma[0,0,::2,::2],(0.01,0.1,0.5,0.9,0.99))*4-2)
    sat=image.max(0).values-image.min(0).values
    f.append(_q(sat[::2,::2],Q3)*4-1)
    f.append(_q(image.min(0).values[::2,::2],Q3)*4-1)
    d=torch.log(F.avg_pool2d(F.conv2d(F.pad(luma,(1,1,1,1),mode='replicate'),image.new_tensor(_DIRS)[:,None]).abs(),4)+1e-3)[0]
    f.append(_q(d.max(0).values-d.min(0).values,(0.5,0.9)))
    g=torch.log(d.exp().mean((1,2)))
    f.append((g.max()-g.min())[None])
    return torch.cat(f)
