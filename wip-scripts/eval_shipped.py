import time, numpy as np, torch
from pathlib import Path
from vsdmot.eval.graded_frames import grade_frames, read_frames, spread, rank_by_type, score_views
from vsdmot.eval.frame_quality import head_scorer
from vsdmot.bench.quality_sources import tracker_quality_head
from vsdmot.degrade.registry import single_types
torch.set_num_threads(1)
t0=time.time()
tud=Path('/work/shared/data/mot15/TUD-Stadtmitte')
fr=read_frames(tud, spread(1,179,24))
g=grade_frames(fr,'TUD-Stadtmitte',single_types(),[1,2,3,4,5],(288,512),seed=500)
print(len(g), time.time()-t0)
head,_=tracker_quality_head(Path('vsdmot/weights/vsdmot-default.pt'))
s=score_views(head_scorer(head,288,512),g)
print(time.time()-t0)
for r in rank_by_type(s,g):
    print(f"{r.type:15s} {r.spearman:6.3f} " + " ".join(f"{r.medians[k]:.3f}" for k in sorted(r.medians)), r.falls())
import pickle; pickle.dump(g, open('/tmp/q/tud_graded.pkl','wb'))
