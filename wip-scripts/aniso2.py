import torch, torch.nn.functional as F
from aniso import _dir_energy, _DIRS, _LUMA
def aniso2(image):
    luma=(image*image.new_tensor(_LUMA)[:,None,None]).sum(0)[None,None]
    e=_dir_energy(luma,image.new_tensor(_DIRS)[:,None])
    return torch.sort(e-e.mean()).values
