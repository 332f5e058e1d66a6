import torch, torch.nn.functional as F
_LUMA=(0.299,0.587,0.114)
_LAP=((0.,1.,0.),(1.,-4.,1.),(0.,1.,0.))
QS=(0.05,0.25,0.5,0.75,0.95)
def hf_stats(image, scales=(1,2,4), cell=4):
    luma=(image*image.new_tensor(_LUMA)[:,None,None]).sum(0)[None,None]
    k=image.new_tensor(_LAP)[None,None]
    q=image.new_tensor(QS)
    feats=[]
    for s in scales:
        l=F.avg_pool2d(luma,s) if s>1 else luma
        lap=F.conv2d(F.pad(l,(1,1,1,1),mode='replicate'),k).abs()
        e=torch.log(F.avg_pool2d(lap,cell)+1e-3).flatten()
        feats.append(torch.quantile(e,q))
    feats.append(torch.quantile(luma.flatten()[::7],image.new_tensor((0.01,0.5,0.99)))*4-2)
    return torch.cat(feats)
