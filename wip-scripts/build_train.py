import time, pickle, numpy as np, torch
from pathlib import Path
from vsdmot.eval.graded_frames import grade_frames, read_frames, spread, GradedFrames
from vsdmot.degrade.registry import single_types
from vsdmot.data.synth import generate_dataset
torch.set_num_threads(1)
t0=time.time()
pets=Path('/work/shared/data/mot15/PETS09-S2L1')
fr=read_frames(pets, spread(1,600,60))
g=grade_frames(fr,'PETS09-S2L1',single_types(),[1,2,3,4,5],(288,512),seed=100)
print(len(g), time.time()-t0)
seqs=generate_dataset(Path('/tmp/q/synth'),3,60,seed=300,progress=False,overwrite=True)
for i,sd in enumerate(seqs):
    f=read_frames(sd, spread(1,60,10))
    g.extend(grade_frames(f,sd.name,single_types(),[1,2,3,4,5],(288,512),seed=200+20*i))
print(len(g), time.time()-t0)
pickle.dump(g, open('/tmp/q/train_graded.pkl','wb'))
