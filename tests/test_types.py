import numpy as np
import pytest

import symgraph as sg
from symgraph.types import TensorType, broadcast_static, float_of


def test_tensor_type_basics():
    t = TensorType("float32", (None, 3))
    assert t.ndim == 2 and t.dtype == "float32" and t.broadcastable == (False, False)
    assert TensorType(np.float32, (None, 3)) == t and hash(TensorType("float32", [None, 3])) == hash(t)
    assert str(t) == "Tensor[float32](?, 3)"
    assert TensorType("int64", (1,)).broadcastable == (True,)


@pytest.mark.parametrize("bad", [(-1,), (2.5,), ("a",)])
def test_bad_static_shape(bad):
    with pytest.raises(ValueError):
        TensorType("float64", bad)


def test_unsupported_dtype():
    with pytest.raises(TypeError, match="unsupported dtype"):
        TensorType("complex128", ())


@pytest.mark.parametrize(
    "shapes, expected",
    [
        (((None, 3), (3,)), (None, 3)),
        (((1, 3), (4, 1)), (4, 3)),
        (((None, 1), (1, None)), (None, None)),
        (((2, 3), (4, 3)), None),
        (((), (5,)), (5,)),
    ],
)
def test_broadcast_static(shapes, expected):
    assert broadcast_static(*shapes) == expected


def test_float_of():
    assert float_of("int8") == "float32" and float_of("int64") == "float64" and float_of("float32") == "float32"


def test_filter_casts_only_safely():
    t = TensorType("float64", (None,))
    assert t.filter(np.arange(3, dtype="int32")).dtype == "float64"
    t32 = TensorType("float32", (None,))
    with pytest.raises(sg.CallError, match="cannot safely cast float64 to float32"):
        t32.filter(np.zeros(3))
    assert t32.filter(np.zeros(3), allow_downcast=True).dtype == "float32"
    assert t32.filter([1.5, 2.0]).dtype == "float32"  # Python data adopts the input's dtype
    with pytest.raises(sg.CallError, match="float data"):
        TensorType("int32", (None,)).filter([1.5])
    with pytest.raises(sg.CallError, match="does not fit"):
        TensorType("int8", ()).filter(1000)
    with pytest.raises(sg.CallError, match="expected 1 dimensions"):
        t.filter(np.zeros((2, 2)))
    with pytest.raises(sg.CallError, match="expected length 3 on axis 1"):
        TensorType("float64", (None, 3)).filter(np.zeros((2, 2)))


def test_constructors_and_floatx(monkeypatch):
    assert sg.matrix().type == TensorType(sg.config.floatX, (None, None))
    assert sg.tensor(dtype="int8", shape=(None, 3)).type == TensorType("int8", (None, 3))
    assert sg.tensor3("x").ndim == 3 and sg.tensor4().ndim == 4 and sg.scalar().ndim == 0
    assert sg.tensor(ndim=2).type.shape == (None, None)
    monkeypatch.setattr(sg.config, "floatX", "float32")
    assert sg.vector().dtype == "float32"
    assert sg.constant(1.5).dtype == "float32"
    with pytest.raises(ValueError):
        sg.config.floatX = "float16"
    with pytest.raises(ValueError):
        sg.matrix(shape=(None,))
