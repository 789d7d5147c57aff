"""Stabilize phase: the stable forms of ``symgraph.stable_forms`` (log_softmax, log1p, fused softmax
crossentropy...). All are tagged ``fast_compile`` so that results stay stable there.
"""

from symgraph.rewrite.engine import register
from symgraph.stable_forms import STABLE_FORMS

TAGS = ("fast_compile",)

for _form in STABLE_FORMS:
    register("stabilize", *_form.tracks, name=_form.name, tags=TAGS)(_form.fn)
