import pickle, sys, torch, time
sys.path.insert(0,'/tmp/q')
from feat2 import prepare
from vsdmot.eval.frame_quality import unit_rgb
torch.set_num_threads(1)
for name,tag in (('train','t'),('tud','v')):
    g=pickle.load(open(f'/tmp/q/{name}_graded.pkl','rb'))
    t0=time.time()
    xs=[prepare([unit_rgb(v) for v in g.views[i:i+64]]).half() for i in range(0,len(g),64)]
    x=torch.cat(xs); print(name,x.shape,time.time()-t0, x.float().mean((0,2,3)), x.float().std((0,2,3)))
    torch.save(x,f'/tmp/q/X2{tag}.pt')
