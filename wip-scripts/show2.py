import pickle, cv2, numpy as np
g=pickle.load(open('/tmp/q/tud_graded.pkl','rb'))
t=g.frame[5]
pick=[i for i in range(len(g)) if g.frame[i]==t and g.types[i] in ('clean','motion_blur') ]
tiles=[g.views[i].copy() for i in pick]
rows=[np.hstack(tiles[i:i+3]) for i in range(0,6,3)]
cv2.imwrite('/tmp/q/mb.png',np.vstack(rows))
