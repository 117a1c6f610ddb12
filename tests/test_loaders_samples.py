"""``load_sample`` / ``sample_info`` on the scikit-image sample twins."""

from __future__ import annotations

import numpy as np
import pytest

from data_registry.loaders import load_sample, sample_info
from data_registry.loaders.samples import SAMPLES


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_load_sample_twin_matches_info(name):
    info = sample_info(name)
    image = load_sample(name, source="twin")
    assert image.ndim == len(info["axes"])
    assert image.dtype == np.dtype(info["dtype"])
    if name in ("human_mitosis", "cell", "protein_transport"):
        assert image.shape == info["real_shape"]


def test_sample_info_is_a_copy_and_rejects_unknown_names():
    info = sample_info("cells3d")
    info["axes"] = "XYZ"
    assert sample_info("cells3d")["axes"] == "ZCYX"
    assert sample_info("cells3d")["pixel_size_um"] == (0.29, 0.26, 0.26)
    with pytest.raises(ValueError, match="human_mitosis"):
        sample_info("mitosis")
