import pickle, sys, torch, time
from vsdmot.eval.frame_quality import unit_rgb
torch.set_num_threads(1)
L=torch.tensor((0.299,0.587,0.114))[:,None,None]
for name in ('train','tud'):
    g=pickle.load(open(f'/tmp/q/{name}_graded.pkl','rb'))
    out=[]
    for v in g.views:
        x=(unit_rgb(v)*L).sum(0); h,w=x.shape; t,l=(h-160)//2,(w-160)//2
        out.append(x[t:t+160,l:l+160].half())
    torch.save(torch.stack(out)[:,None], f'/tmp/q/C_{name}.pt'); print(name, len(out))
