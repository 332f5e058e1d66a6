import pickle, cv2, numpy as np
g=pickle.load(open('/tmp/q/tud_graded.pkl','rb'))
t=g.frame[5]
pick=[i for i in range(len(g)) if g.frame[i]==t and g.types[i] in ('clean','gaussian_noise','defocus_blur','downscale','jpeg') and g.severities[i] in (0,1,3)]
tiles=[]
for i in pick:
    v=g.views[i][80:240,100:300].copy()
    cv2.putText(v,f"{g.types[i][:8]} {g.severities[i]:.0f}",(3,12),cv2.FONT_HERSHEY_SIMPLEX,0.4,(0,255,255),1)
    tiles.append(v)
while len(tiles)%4: tiles.append(np.zeros_like(tiles[0]))
rows=[np.hstack(tiles[i:i+4]) for i in range(0,len(tiles),4)]
cv2.imwrite('/tmp/q/tud.png',cv2.resize(np.vstack(rows),None,fx=1.5,fy=1.5,interpolation=cv2.INTER_NEAREST))
g=pickle.load(open('/tmp/q/train_graded.pkl','rb'))
i0=[i for i in range(len(g)) if g.types[i]=='clean'][3]; t=g.frame[i0]
pick=[i for i in range(3360) if g.frame[i]==t and g.types[i] in ('clean','gaussian_noise','defocus_blur','downscale','jpeg') and g.severities[i] in (0,1,3)]
tiles=[]
for i in pick:
    v=g.views[i][80:240,100:300].copy()
    cv2.putText(v,f"{g.types[i][:8]} {g.severities[i]:.0f}",(3,12),cv2.FONT_HERSHEY_SIMPLEX,0.4,(0,255,255),1)
    tiles.append(v)
while len(tiles)%4: tiles.append(np.zeros_like(tiles[0]))
rows=[np.hstack(tiles[i:i+4]) for i in range(0,len(tiles),4)]
cv2.imwrite('/tmp/q/pets.png',cv2.resize(np.vstack(rows),None,fx=1.5,fy=1.5,interpolation=cv2.INTER_NEAREST))
