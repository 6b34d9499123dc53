"""Model bodies: integers in, bytes, integers out; seeded initialisation; P-model reference."""

import numpy as np
import pytest

from inrcodec.decode.init import eps_code_from_mse, init_arrays, interpolate_init
from inrcodec.decode.weights import KIND_I, KIND_P, QuantizedModel, decode_body, dequantize, encode_body
from inrcodec.errors import InrError
from inrcodec.models import ARCHITECTURES
from inrcodec.quant.quantizer import step_from_code


@pytest.fixture(scope="module")
def specs():
    return ARCHITECTURES.get("gnerv")(37, 29, "420", (1, 4, 8, 6, 8, 4)).tensor_specs()


def _random_model(specs, kind, seed=0):
    rng = np.random.default_rng(seed)
    symbols = [np.round(rng.laplace(0, 2.0, s.shape)).astype(np.int32) for s in specs]
    symbols[2][:] = 0  # an all-zero tensor has no segment
    codes = [int(c) for c in rng.integers(-100, 10, len(specs))]
    return QuantizedModel(kind, 37 if kind == KIND_P else 0, codes, symbols)


class TestModelBody:
    @pytest.mark.parametrize("coder_id", [0, 1, 2])
    @pytest.mark.parametrize("kind", [KIND_I, KIND_P])
    def test_round_trip_is_bit_exact(self, specs, kind, coder_id):
        qm = _random_model(specs, kind)
        back = decode_body(encode_body(qm, coder_id), specs, kind, coder_id)
        assert back.digest() == qm.digest()
        assert back.eps_code == qm.eps_code and back.step_codes == qm.step_codes

    def test_truncated_body_raises_only_inr_errors(self, specs):
        body = encode_body(_random_model(specs, KIND_I), 1)
        for cut in range(0, len(body), max(1, len(body) // 40)):
            try:
                decode_body(body[:cut], specs, KIND_I, 1)
            except InrError:
                pass

    def test_body_errors_name_file_offsets(self, specs):
        # the side information is cut inside the second tensor's fields; the body sits at file
        # offset 1000, so the message must point past it, at the cut, not at body offset 2
        body = encode_body(_random_model(specs, KIND_I), 1)
        with pytest.raises(InrError, match=r"at offset 100[0-9]\b"):
            decode_body(body[:3], specs, KIND_I, 1, base=1000)
        bad_step = bytes([0xFE, 0x0F]) + body[2:]  # zigzag 2046: step code 1023, out of range
        with pytest.raises(InrError, match=r"at offset 1000: step code 1023"):
            decode_body(bad_step, specs, KIND_I, 1, base=1000)

    def test_dequantize_is_exact_products_plus_reference(self, specs):
        qm = _random_model(specs, KIND_P)
        ref = init_arrays(specs, 5)
        w = dequantize(qm, ref)
        for r, s, c, out in zip(ref, qm.symbols, qm.step_codes, w):
            np.testing.assert_array_equal(out, (r + s.astype(np.float64) * step_from_code(c)).astype(np.float32))


class TestInit:
    def test_same_seed_same_values_other_seed_differs(self, specs):
        a, b, c = init_arrays(specs, 7), init_arrays(specs, 7), init_arrays(specs, 8)
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
        assert not np.array_equal(a[0], c[0])

    def test_values_follow_the_spec_arithmetic(self, specs):
        gen = np.random.PCG64(3)
        raw = gen.random_raw(4)
        u = (raw >> np.uint64(11)).astype(np.float64) * 2.0**-53
        expect = ((2 * u - 1) * specs[0].init_bound).astype(np.float32)
        np.testing.assert_array_equal(init_arrays(specs, 3)[0].ravel()[:4], expect)

    def test_bounds_respected_and_biases_zero(self, specs):
        for s, a in zip(specs, init_arrays(specs, 1)):
            if s.init_bound == 0:
                assert not a.any()
            else:
                assert np.abs(a).max() <= s.init_bound

    def test_interpolation_endpoints(self, specs):
        init, prev = init_arrays(specs, 1), init_arrays(specs, 2)
        assert all(np.array_equal(x, y) for x, y in zip(interpolate_init(init, prev, 0), prev))
        mid = interpolate_init(init, prev, 128)
        np.testing.assert_allclose(mid[0], 0.5 * init[0] + 0.5 * prev[0], rtol=1e-6)

    def test_eps_grows_with_clip_difference(self):
        codes = [eps_code_from_mse(m) for m in (0.0, 1e-4, 1e-3, 1e-2, 1.0)]
        assert codes[0] == 0 and codes == sorted(codes) and codes[-1] == 255
