import pickle, sys, torch, time
sys.path.insert(0,'/tmp/q')
from feat import hf_stats
from vsdmot.eval.frame_quality import unit_rgb
torch.set_num_threads(1)
for name in ('train','tud'):
    g=pickle.load(open(f'/tmp/q/{name}_graded.pkl','rb'))
    t0=time.time()
    f=torch.stack([hf_stats(unit_rgb(v)) for v in g.views])
    print(name, f.shape, time.time()-t0)
    torch.save(f, f'/tmp/q/F_{name}.pt')
