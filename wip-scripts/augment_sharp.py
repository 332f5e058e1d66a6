def augment(imgs):
    h,w=imgs[0].shape[:2]
    a=rng.uniform(0.45,1.0); ch,cw=int(h*a**0.5),int(w*a**0.5)
    y,x=rng.integers(0,h-ch+1),rng.integers(0,w-cw+1)
    long=rng.uniform(480,800); s=long/max(ch,cw)
    flip=rng.random()<0.5; hue=rng.integers(0,180); sat=rng.uniform(0.6,1.3)
    sharp=rng.uniform(0,1.5) if rng.random()<0.6 else 0.0; sig=rng.uniform(0.8,2.0)
    out=[]
    for im in imgs:
        c=im[y:y+ch,x:x+cw]
        c=cv2.resize(c,(round(cw*s),round(ch*s)),interpolation=cv2.INTER_AREA if s<1 else cv2.INTER_LINEAR)
        if flip: c=c[:,::-1]
        if sharp>0:
            b=cv2.GaussianBlur(c,(0,0),sig); c=cv2.addWeighted(c,1+sharp,b,-sharp,0)
        hsv=cv2.cvtColor(np.ascontiguousarray(c),cv2.COLOR_BGR2HSV).astype(np.int32)
        hsv[...,0]=(hsv[...,0]+hue)%180; hsv[...,1]=np.clip(hsv[...,1]*sat,0,255)
        out.append(cv2.cvtColor(hsv.astype(np.uint8),cv2.COLOR_HSV2BGR))
    return out
