import time, pickle, sys, numpy as np, torch
from pathlib import Path
from vsdmot.eval.graded_frames import rank_by_type
from vsdmot.eval.frame_quality import unit_rgb
from vsdmot.semantics import QualityConfig, QualityHead
from vsdmot.bench.quality_sources import tracker_quality_head
torch.set_num_threads(1)
def prep(head, g, path):
    if Path(path).exists(): return torch.load(path)
    xs=[]
    with torch.no_grad():
        for i in range(0,len(g),64):
            xs.append(head.prepare([unit_rgb(v) for v in g.views[i:i+64]]).half())
    x=torch.cat(xs); torch.save(x,path); return x
init=sys.argv[1]; steps=int(sys.argv[2]); lr=float(sys.argv[3]); clean_w=float(sys.argv[4])
head0=QualityHead(QualityConfig())
gt=pickle.load(open('/tmp/q/train_graded.pkl','rb')); Xt=prep(head0,gt,'/tmp/q/Xt.pt'); yt=torch.tensor(gt.labels).float(); kt=np.array(gt.types); gt.views=[]
gv=pickle.load(open('/tmp/q/tud_graded.pkl','rb')); Xv=prep(head0,gv,'/tmp/q/Xv.pt'); gv.views=[]
torch.manual_seed(0)
if init=='shipped': head,_=tracker_quality_head(Path('vsdmot/weights/vsdmot-default.pt'))
else: head=QualityHead(QualityConfig())
head.train()
w=np.where(kt=='clean', clean_w, 1.0); w=w/w.sum()
rng=np.random.default_rng(0)
opt=torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
sched=torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
t0=time.time()
def evaluate():
    head.eval()
    with torch.no_grad(): s=torch.sigmoid(head(Xv.float())).numpy()
    head.train()
    rows=rank_by_type(s,gv)
    for r in rows:
        print(f"  {r.type:15s} {r.spearman:6.3f} " + " ".join(f"{r.medians[k]:.3f}" for k in sorted(r.medians)), r.falls())
    print("  min spearman", min(r.spearman for r in rows), "all fall", all(r.falls() for r in rows))
for step in range(steps):
    idx=rng.choice(len(yt),64,p=w)
    logits=head(Xt[idx].float())
    loss=QualityHead.loss(logits, yt[idx])
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    if (step+1)%500==0:
        print(step+1, loss.item(), time.time()-t0); evaluate()
