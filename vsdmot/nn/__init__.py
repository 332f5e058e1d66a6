"""Network building blocks shared by the tracker and the semantic branch.

The lowest layer of the model code: :mod:`vsdmot.models` (the tracker) depends on
:mod:`vsdmot.semantics` (the semantic branch), and both depend on this package, which
imports neither. Modules: :mod:`.mobilenet_v2` (the MobileNetV2 trunk and its blocks),
:mod:`.imagenet` (the input normalisation), :mod:`.fusion` (the contract between the
semantic branch and the tracker), :mod:`.losses` (the alignment and structure losses).
"""
