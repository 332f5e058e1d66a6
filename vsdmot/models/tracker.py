"""VSD-MOT: a MOTRv2-style query-based tracker with an optional semantic branch.

One frame: backbone -> deformable encoder -> queries (track, proposal, learnable) ->
semantic injection -> deformable decoder with box refinement. Across frames, the
decoder states of the queries that continue become track queries through the query
interaction module. Which queries continue is decided by the label assignment in
training and by the runtime tracker (``vsdmot.tracking``) at inference; the model holds
no identities.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsdmot.models.backbone import build_backbone
from vsdmot.models.batch import ClipBatch, FrameTargets
from vsdmot.models.config import ModelConfig
from vsdmot.models.criterion import TrackletCriterion
from vsdmot.models.embedding import (
    EmbeddingHead,
    crop_boxes,
    identity_contrastive_loss,
    object_alignment_loss,
    object_structure_loss,
)
from vsdmot.models.position import sine_embed_2d
from vsdmot.models.qim import QueryInteraction
from vsdmot.models.queries import LearnableQueries, ProposalQueries
from vsdmot.models.transformer import DecoderOutput, DeformableDecoder, DeformableEncoder, Memory
from vsdmot.nn.fusion import SemanticOutput

logger = logging.getLogger(__name__)

TRACK, PROPOSAL, LEARNABLE = 0, 1, 2
"""Values of :attr:`FrameOutput.kinds`."""


@dataclass
class TrackQueries:
    """Queries carried from one frame to the next (one per live track)."""

    embed: Tensor  # (N, D) content, already updated by the query interaction module
    ref_boxes: Tensor  # (N, 4) cxcywh normalised, detached

    def __len__(self) -> int:
        return self.embed.shape[0]

    @staticmethod
    def empty(d_model: int, device: torch.device | str = "cpu") -> TrackQueries:
        z = torch.zeros
        return TrackQueries(z(0, d_model, device=device), z(0, 4, device=device))


@dataclass
class FrameOutput:
    """Decoder output of one frame (final layer). Query order: track, proposal, learnable."""

    logits: Tensor  # (Q,) object logit
    boxes: Tensor  # (Q, 4) cxcywh normalised
    hidden: Tensor  # (Q, D) decoder hidden state
    kinds: Tensor  # (Q,) int64: 0 track, 1 proposal, 2 learnable
    num_track: int
    semantic: SemanticOutput | None = None
    embeddings: Tensor | None = None  # (Q, E) L2-normalised appearance, when the head exists


@dataclass
class _ObjectRecords:
    """The assigned queries of one clip over its frames, for the embedding losses."""

    embeddings: list[Tensor] = field(default_factory=list)
    ids: list[Tensor] = field(default_factory=list)
    frames: list[Tensor] = field(default_factory=list)
    boxes: list[Tensor] = field(default_factory=list)  # gt cxcywh of each, for teacher crops

    def add(self, emb: Tensor, ids: Tensor, t: int, boxes: Tensor) -> None:
        self.embeddings.append(emb)
        self.ids.append(ids)
        self.frames.append(torch.full_like(ids, t))
        self.boxes.append(boxes)


@dataclass
class _QueryBatch:
    """The queries of ``B`` clips, padded at the end to a common length."""

    content: Tensor  # (B, Q, D)
    ref_boxes: Tensor  # (B, Q, 4)
    padding_mask: Tensor  # (B, Q) True on padding
    kinds: list[Tensor]  # per clip, (Q_b,)
    lengths: list[int]


@dataclass
class _ClipTracks:
    """Training-time track state of one clip: queries plus the gt ids they hold."""

    queries: TrackQueries
    ids: Tensor  # (N,) long, -1 = false-positive track


@dataclass
class _ClipSemantics:
    """The branch's output for the ``B * T`` frames of a batch (clip-major order)."""

    output: SemanticOutput
    batch_size: int
    clip_length: int

    def frame(self, t: int) -> SemanticOutput:
        """Frame ``t`` of every clip, as the tracker's per-frame loop consumes it."""

        def pick(x: Tensor | None) -> Tensor | None:
            if x is None:
                return None
            return x.view(self.batch_size, self.clip_length, *x.shape[1:])[:, t]

        out = self.output
        return SemanticOutput(
            injection=pick(out.injection), quality=pick(out.quality), weight=pick(out.weight)
        )


class VSDMOT(nn.Module):
    """Backbone + deformable encoder/decoder + query interaction module.

    Build it with :func:`vsdmot.models.factory.build_model`. ``config`` is kept so that
    checkpoints can record it.
    """

    def __init__(self, cfg: ModelConfig, semantic_branch: nn.Module | None = None) -> None:
        super().__init__()
        self.config = cfg
        d = cfg.d_model
        self.backbone = build_backbone(cfg)
        groups = 32 if d % 32 == 0 else 8
        self.input_proj = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, d, 1), nn.GroupNorm(groups, d))
            for c in self.backbone.channels
        )
        in_ch = self.backbone.channels[-1]
        for _ in range(cfg.n_levels - 3):  # extra coarser levels, as in Deformable DETR
            self.input_proj.append(
                nn.Sequential(nn.Conv2d(in_ch, d, 3, stride=2, padding=1), nn.GroupNorm(groups, d))
            )
            in_ch = d
        for proj in self.input_proj:
            nn.init.xavier_uniform_(proj[0].weight, gain=1)
            nn.init.zeros_(proj[0].bias)
        self.level_embed = nn.Parameter(torch.randn(cfg.n_levels, d) * 0.02)
        layer_kwargs = dict(
            n_heads=cfg.n_heads,
            n_levels=cfg.n_levels,
            n_points=cfg.n_points,
            ffn_dim=cfg.ffn_dim,
            dropout=cfg.dropout,
        )
        self.encoder = DeformableEncoder(cfg.enc_layers, d_model=d, **layer_kwargs)
        self.decoder = DeformableDecoder(cfg.dec_layers, d, **layer_kwargs)
        self.proposal_queries = ProposalQueries(d)
        self.learnable_queries = LearnableQueries(cfg.num_learnable_queries, d)
        self.qim = QueryInteraction(d, cfg.n_heads, cfg.ffn_dim, cfg.dropout)
        self.semantic_branch = semantic_branch
        self.criterion = TrackletCriterion(cfg)
        self.embed_head = EmbeddingHead(d, cfg.embed_dim) if cfg.embed_dim > 0 else None
        self.object_projector: nn.Linear | None = None
        if cfg.object_distill != "none":
            if semantic_branch is None:
                raise ValueError(
                    "model.object_distill needs the semantic branch's teacher "
                    "(semantic.semantics must not be none)"
                )
            # Student -> teacher space for the alignment term (CLIP-KD's projector).
            self.object_projector = nn.Linear(cfg.embed_dim, semantic_branch.embed_dim)
        # Track-query augmentation draws from this instance's own generator.
        self._aug_generator = torch.Generator().manual_seed(cfg.seed)

    # ------------------------------------------------------------------ one frame
    def _encode(self, images: Tensor, masks: Tensor) -> Memory:
        """Backbone + deformable encoder for ``images (B, 3, H, W)``, ``masks (B, H, W)``."""
        feats = self.backbone(images)
        srcs = [proj(f) for proj, f in zip(self.input_proj, feats, strict=False)]
        last = feats[-1]
        for proj in self.input_proj[len(feats) :]:
            last = proj(last)
            srcs.append(last)
        flat_src, flat_pos, flat_mask, shapes, ratios = [], [], [], [], []
        for lvl, src in enumerate(srcs):
            h, w = src.shape[-2:]
            m = F.interpolate(masks[:, None].float(), size=(h, w)).bool()[:, 0]
            pos = sine_embed_2d(m, self.config.d_model) + self.level_embed[lvl][None, :, None, None]
            flat_src.append(src.flatten(2).transpose(1, 2))
            flat_pos.append(pos.flatten(2).transpose(1, 2))
            flat_mask.append(m.flatten(1))
            shapes.append((h, w))
            valid_h = (~m[:, :, 0]).sum(1).float() / h
            valid_w = (~m[:, 0, :]).sum(1).float() / w
            ratios.append(torch.stack((valid_w, valid_h), -1))
        src, pos, mask = torch.cat(flat_src, 1), torch.cat(flat_pos, 1), torch.cat(flat_mask, 1)
        valid_ratios = torch.stack(ratios, 1)
        memory = self.encoder(src, pos, shapes, valid_ratios, mask)
        return Memory(memory, mask, shapes, valid_ratios)

    def _semantics(
        self,
        images: Tensor,
        masks: Tensor,
        clean_images: Tensor | None,
        quality_targets: Tensor | None,
        fuse: bool = True,
    ) -> SemanticOutput | None:
        if self.semantic_branch is None:
            return None
        if not fuse:  # an inference switch of the branch (vsdmot.semantics.branch)
            return self.semantic_branch(images, masks, fuse=False)
        return self.semantic_branch(images, masks, clean_images, quality_targets)

    def _assemble_queries(self, tracks: list[TrackQueries], proposals: list[Tensor]) -> _QueryBatch:
        """Per clip: track queries, then proposals, then learnable queries; padded."""
        learn_content, learn_ref = self.learnable_queries()
        contents, refs, kinds = [], [], []
        for trk, props in zip(tracks, proposals, strict=True):
            prop_content, prop_ref = self.proposal_queries(props)
            contents.append(torch.cat((trk.embed, prop_content, learn_content)))
            refs.append(torch.cat((trk.ref_boxes, prop_ref, learn_ref)))
            kinds.append(
                torch.cat(
                    [
                        torch.full((n,), k, dtype=torch.long, device=learn_ref.device)
                        for n, k in (
                            (len(trk), TRACK),
                            (len(props), PROPOSAL),
                            (len(learn_ref), LEARNABLE),
                        )
                    ]
                )
            )
        lengths = [len(k) for k in kinds]
        q = max(lengths)
        d = self.config.d_model
        b = len(tracks)
        content = learn_content.new_zeros(b, q, d)
        ref = learn_ref.new_full((b, q, 4), 0.5)  # any valid box: padded rows are ignored
        pad = torch.ones(b, q, dtype=torch.bool, device=learn_ref.device)
        for i, (c, r) in enumerate(zip(contents, refs, strict=True)):
            content[i, : len(c)] = c
            ref[i, : len(r)] = r
            pad[i, : len(c)] = False
        return _QueryBatch(content, ref, pad, kinds, lengths)

    def _inject_semantics(self, content: Tensor, semantic: SemanticOutput | None) -> Tensor:
        """The single place where global semantics enter the queries.

        The frame's semantic vector is added to *every* query (track, proposal, learnable)
        right before the decoder; without a semantic branch the queries pass unchanged.
        """
        if semantic is None:
            return content
        return content + semantic.injection[:, None, :]

    def _decode(self, queries: _QueryBatch, mem: Memory, semantic: SemanticOutput | None):
        tgt = self._inject_semantics(queries.content, semantic)
        return self.decoder(tgt, queries.ref_boxes, mem, queries.padding_mask)

    def _track_queries(self, hidden: Tensor, boxes: Tensor) -> TrackQueries:
        """QIM on kept decoder states; the predicted box (detached) is the next reference."""
        return TrackQueries(self.qim(hidden, boxes), boxes.detach())

    # ------------------------------------------------------------------ training
    def training_step(self, batch: ClipBatch) -> dict[str, Tensor]:
        """Run ``B`` clips frame by frame and return the losses.

        Returns ``"loss"`` (the scalar to backpropagate: the sum of every ``loss_*``
        entry), the weighted components ``loss_cls``, ``loss_l1``, ``loss_giou``,
        ``loss_aux`` and the semantic branch's losses (each averaged over the frames),
        plus detached diagnostics: ``num_gt`` and, when the semantic branch provides
        them, ``quality`` ``(B, T)`` and ``semantic_weight`` ``(B, T)`` (mean of w_t).
        """
        cfg = self.config
        device = batch.images.device
        b_size = batch.batch_size
        states = [
            _ClipTracks(
                TrackQueries.empty(cfg.d_model, device),
                torch.zeros(0, dtype=torch.long, device=device),
            )
            for _ in range(b_size)
        ]
        num_gt = sum(len(tg.ids) for clip in batch.targets for tg in clip)
        sums = torch.zeros(cfg.dec_layers, 3, device=device)
        clip_sem = self._clip_semantics(batch)
        records = [_ObjectRecords() for _ in range(b_size)]
        for t in range(batch.clip_length):
            images, masks = batch.images[:, t], batch.masks[:, t]
            mem = self._encode(images, masks)
            sem = None if clip_sem is None else clip_sem.frame(t)
            props = [self._training_proposals(batch.proposals[b][t]) for b in range(b_size)]
            queries = self._assemble_queries([s.queries for s in states], props)
            dec = self._decode(queries, mem, sem)
            for b in range(b_size):
                layer_losses, states[b] = self._train_clip_frame(
                    dec, queries, b, t, batch.targets[b][t], states[b], records[b]
                )
                sums = sums + layer_losses
        losses = self.criterion.weighted(sums, num_gt)
        if self.embed_head is not None:
            losses.update(self._embedding_losses(records, batch))
        return self._training_outputs(losses, num_gt, clip_sem, batch)

    def _train_clip_frame(
        self,
        dec: DecoderOutput,
        queries: _QueryBatch,
        b: int,
        t: int,
        gt: FrameTargets,
        state: _ClipTracks,
        records: _ObjectRecords,
    ) -> tuple[Tensor, _ClipTracks]:
        """Clip ``b`` at frame ``t``: assign its queries to ``gt``, return the per-layer
        losses ``(L, 3)`` and the clip's track state for frame ``t + 1``; its assigned
        queries' embeddings are appended to ``records``."""
        n = queries.lengths[b]
        logits, boxes = dec.logits[:, b, :n], dec.boxes[:, b, :n]
        kinds = queries.kinds[b]
        assignment = self.criterion.assign(logits[-1], boxes[-1], kinds, state.ids, gt)
        layer_losses = self.criterion.layer_losses(logits, boxes, assignment, gt.boxes)
        if self.embed_head is not None:
            hit = assignment.target_idx >= 0
            records.add(
                self.embed_head(dec.hidden[-1, b, :n][hit]),
                assignment.gt_ids[hit],
                t,
                gt.boxes.to(logits.device)[assignment.target_idx[hit]],
            )
        idx, ids = self.criterion.carried_queries(
            assignment, logits[-1].detach(), kinds, self._aug_generator
        )
        return layer_losses, _ClipTracks(
            self._track_queries(dec.hidden[-1, b, idx], boxes[-1, idx]), ids
        )

    @staticmethod
    def _training_outputs(
        losses: dict[str, Tensor],
        num_gt: int,
        clip_sem: _ClipSemantics | None,
        batch: ClipBatch,
    ) -> dict[str, Tensor]:
        """:meth:`training_step`'s result: the total ``loss``, its components, and the
        detached diagnostics (``num_gt``, ``quality``, ``semantic_weight``)."""
        if clip_sem is not None:
            losses.update(clip_sem.output.losses)
        out: dict[str, Tensor] = {"loss": sum(losses.values())}
        out.update(losses)
        out["num_gt"] = torch.tensor(float(num_gt), device=batch.images.device)
        if clip_sem is not None:
            sem_all = clip_sem.output
            shape = (batch.batch_size, batch.clip_length)
            if sem_all.quality is not None:
                out["quality"] = sem_all.quality.detach().view(shape)
            if sem_all.weight is not None:
                out["semantic_weight"] = sem_all.weight.detach().mean(-1).view(shape)
        return out

    def _embedding_losses(
        self, records: list[_ObjectRecords], batch: ClipBatch
    ) -> dict[str, Tensor]:
        """Identity-contrastive loss per clip and, when configured, object-level DCSD
        against the teacher on the clean frame's crops; each averaged over the clips."""
        cfg = self.config
        id_terms, align_terms, struct_terms = [], [], []
        for b, rec in enumerate(records):
            if not rec.embeddings:
                continue
            emb, ids = torch.cat(rec.embeddings), torch.cat(rec.ids)
            frames, boxes = torch.cat(rec.frames), torch.cat(rec.boxes)
            id_terms.append(identity_contrastive_loss(emb, ids, frames, cfg.id_temperature))
            if self.object_projector is not None and batch.clean_images is not None:
                keep = self._distilled_objects(frames)
                teacher = self._teacher_objects(batch, b, frames[keep], boxes[keep])
                student = emb[keep]
                if cfg.object_distill in ("align", "both"):
                    align_terms.append(
                        object_alignment_loss(self.object_projector(student), teacher)
                    )
                if cfg.object_distill in ("structure", "both"):
                    struct_terms.append(
                        object_structure_loss(student, teacher, frames[keep], cfg.id_temperature)
                    )
        out: dict[str, Tensor] = {}
        zero = self.embed_head.net[0].weight.sum() * 0.0  # type: ignore[union-attr]
        out["loss_id"] = cfg.id_loss_weight * (torch.stack(id_terms).mean() if id_terms else zero)
        if self.object_projector is not None:
            if cfg.object_distill in ("align", "both"):
                mean = torch.stack(align_terms).mean() if align_terms else zero
                out["loss_obj_align"] = cfg.object_align_weight * mean
            if cfg.object_distill in ("structure", "both"):
                mean = torch.stack(struct_terms).mean() if struct_terms else zero
                out["loss_obj_struct"] = cfg.object_structure_weight * mean
        return out

    def _distilled_objects(self, frames: Tensor) -> Tensor:
        """Boolean mask keeping at most ``object_max_per_frame`` objects of each frame."""
        keep = torch.zeros_like(frames, dtype=torch.bool)
        for f in torch.unique(frames):
            idx = torch.nonzero(frames == f).flatten()[: self.config.object_max_per_frame]
            keep[idx] = True
        return keep

    @torch.no_grad()
    def _teacher_objects(self, batch: ClipBatch, b: int, frames: Tensor, boxes: Tensor) -> Tensor:
        """The frozen teacher's embeddings of the objects' crops in the clean frames."""
        from vsdmot.semantics.preprocess import valid_crops

        assert self.semantic_branch is not None and batch.clean_images is not None
        teacher = self.semantic_branch.teacher_on(batch.images.device)
        size = self.config.object_crop_size
        crops = []
        for f in torch.unique(frames):
            t = int(f)
            (image,) = valid_crops(batch.clean_images[b, t][None], batch.masks[b, t][None])
            crops.append(crop_boxes(image, boxes[frames == f], (size, size)))
        # ``torch.unique`` is sorted, so reorder the crops back to the records' order.
        order = torch.cat([torch.nonzero(frames == f).flatten() for f in torch.unique(frames)])
        embedded = teacher.embed_crops(torch.cat(crops))
        out = torch.empty_like(embedded)
        out[order] = embedded
        return out

    def _clip_semantics(self, batch: ClipBatch) -> _ClipSemantics | None:
        """The semantic branch over all ``B * T`` frames of a batch in one call.

        A frame's semantics do not depend on the tracking state, so the branch sees the
        whole batch at once: one batched student pass instead of ``T`` small ones, and
        the DCSD structure term compares ``B * T`` frames (live even at batch size 1).
        """
        if self.semantic_branch is None:
            return None
        b_size, t_len = batch.batch_size, batch.clip_length
        images = batch.images.flatten(0, 1)
        masks = batch.masks.flatten(0, 1)
        clean = None if batch.clean_images is None else batch.clean_images.flatten(0, 1)
        sem = self.semantic_branch(images, masks, clean, self._quality_targets(batch))
        return _ClipSemantics(sem, b_size, t_len)

    def _training_proposals(self, proposals: Tensor) -> Tensor:
        return proposals[proposals[:, 4] >= self.config.proposal_score_threshold]

    @staticmethod
    def _quality_targets(batch: ClipBatch) -> Tensor | None:
        """Frame-quality labels of all ``B * T`` frames, clip-major; None if any is missing."""
        labels = [frame.quality for clip in batch.targets for frame in clip]
        if any(q is None for q in labels):
            return None
        return torch.tensor(labels, dtype=batch.images.dtype, device=batch.images.device)

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def inference_step(
        self,
        image: Tensor,
        mask: Tensor,
        proposals: Tensor,
        tracks: TrackQueries | None,
        semantic_fusion: bool = True,
    ) -> FrameOutput:
        """One frame of one video: ``image (1, 3, H, W)``, ``mask (1, H, W)``,
        ``proposals (P, 5)`` (all are used; filtering is the runtime tracker's job).
        ``semantic_fusion=False`` gives the queries no semantic vector (q_t is still
        estimated)."""
        if tracks is None:
            tracks = TrackQueries.empty(self.config.d_model, image.device)
        mem = self._encode(image, mask)
        sem = self._semantics(image, mask, None, None, fuse=semantic_fusion)
        queries = self._assemble_queries([tracks], [proposals])
        dec = self._decode(queries, mem, sem)
        return FrameOutput(
            logits=dec.logits[-1, 0],
            boxes=dec.boxes[-1, 0],
            hidden=dec.hidden[-1, 0],
            kinds=queries.kinds[0],
            num_track=len(tracks),
            semantic=None if sem is None else sem.detach(),
            embeddings=None if self.embed_head is None else self.embed_head(dec.hidden[-1, 0]),
        )

    @torch.no_grad()
    def next_track_queries(self, out: FrameOutput, keep: Tensor) -> TrackQueries:
        """Track queries for the next frame from the kept queries of ``out`` (``keep (Q,)``
        bool), in their order in ``out``."""
        return self._track_queries(out.hidden[keep], out.boxes[keep])
