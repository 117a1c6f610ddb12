"""Tests for lecture_helpers.handcrafted_features, network_embeddings, embedding_maps and
conv_autoencoder: features, CNN embeddings, maps, clusters, autoencoder."""

import numpy as np
import pytest
import torch
from realdata import real_data_dir
from skimage import io, measure
from skimage.draw import disk
from torch import nn

from lecture_helpers import (
    conv_autoencoder,
    embedding_maps,
    handcrafted_features,
    network_embeddings,
)

REAL_DATA = real_data_dir()
BBBC039 = REAL_DATA / "nuclei_bbbc039" / "cell nuclei"


def make_discs(n_per_class=40, size=32, radii=(5, 11), seed=0):
    """Bright discs of two sizes on a noisy dark background: class = which radius."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, radius in enumerate(radii):
        for _ in range(n_per_class):
            image = rng.normal(0.1, 0.02, (size, size))
            centre = size // 2 + rng.integers(-2, 3, size=2)
            rows, cols = disk(tuple(centre), radius + rng.uniform(-0.5, 0.5), shape=image.shape)
            image[rows, cols] = rng.uniform(0.7, 0.9)
            images.append(np.clip(image, 0, 1))
            labels.append(label)
    return np.array(images, dtype=np.float32), np.array(labels)


def real_nucleus_crops(size=32, max_crops=60):
    """Nucleus crops (uint16) cut around labelled BBBC039 nuclei, with their mask areas."""
    if not BBBC039.is_dir():
        pytest.skip(f"real data not found at {BBBC039}")
    image_path = sorted((BBBC039 / "images").glob("*.tif"))[0]
    image = io.imread(image_path)
    labels = io.imread(BBBC039 / "masks" / (image_path.stem + ".png"))
    if labels.ndim == 3:
        labels = labels[..., 0]
    labels = measure.label(labels > 0)
    crops, areas = [], []
    half = size // 2
    for region in measure.regionprops(labels):
        row, col = (int(round(value)) for value in region.centroid)
        if half <= row < image.shape[0] - half and half <= col < image.shape[1] - half:
            crops.append(image[row - half : row + half, col - half : col + half])
            areas.append(region.area)
        if len(crops) == max_crops:
            break
    return np.array(crops), np.array(areas)


# ---------------------------------------------------------------- classical features


def test_classical_features_columns_and_values_on_discs():
    images, labels = make_discs()
    table = handcrafted_features.classical_features(
        images, bright_objects=True, channel_names=["dapi"]
    )
    assert len(table) == len(images)
    assert {"dapi_mean", "dapi_p90", "fg_fraction", "eccentricity", "solidity"} <= set(table)
    small, large = table[labels == 0], table[labels == 1]
    # larger discs cover more of the image, and discs are round and convex
    assert small.fg_fraction.max() < large.fg_fraction.min()
    assert table.eccentricity.max() < 0.5
    assert table.solidity.min() > 0.85


def test_classical_features_dark_objects_and_rgb():
    images, _ = make_discs(n_per_class=5)
    dark_cells = (255 * (1 - images)).astype(np.uint8)
    rgb = np.stack([dark_cells] * 3, axis=-1)
    table = handcrafted_features.classical_features(rgb, bright_objects=False)
    assert [column for column in table if column.startswith("c") and column.endswith("_mean")] == [
        "c0_mean",
        "c1_mean",
        "c2_mean",
    ]
    assert table.fg_fraction.between(0.05, 0.5).all()


def test_classical_features_on_real_nuclei_follow_mask_area():
    crops, areas = real_nucleus_crops()
    assert crops.dtype == np.uint16
    table = handcrafted_features.classical_features(crops, bright_objects=True)
    assert np.isfinite(table.to_numpy()).all()
    correlation = np.corrcoef(table.fg_fraction, np.minimum(areas, 32 * 32))[0, 1]
    assert correlation > 0.5


def test_classical_features_rejects_bad_shapes():
    with pytest.raises(ValueError, match="stack of images"):
        handcrafted_features.classical_features(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="channels last"):
        handcrafted_features.classical_features(np.zeros((2, 3, 16, 16)))
    with pytest.raises(ValueError, match="channel names"):
        handcrafted_features.classical_features(np.zeros((2, 8, 8, 3)), channel_names=["a"])


def test_blank_image_gives_zero_shape_features():
    table = handcrafted_features.classical_features(np.zeros((1, 16, 16), dtype=np.uint8))
    assert table.loc[0, "fg_fraction"] == 0.0
    assert table.loc[0, "eccentricity"] == 0.0


def test_multi_contrast_features_prefixes_and_rescales_signed_images():
    images, labels = make_discs(n_per_class=5)
    signed = 2 * images - 1  # like a DPC image, from -1 to 1
    table = handcrafted_features.multi_contrast_features({"BF": images, "DPC": signed})
    assert len(table) == 10
    assert "BF:BF_mean" in table and "DPC:eccentricity" in table
    # rescaling maps both stacks to the same [0, 1] range, so their features agree
    np.testing.assert_allclose(table["BF:BF_p90"], table["DPC:DPC_p90"], atol=1e-5)
    with pytest.raises(ValueError, match="same number"):
        handcrafted_features.multi_contrast_features({"a": images, "b": images[:3]})
    with pytest.raises(ValueError, match="no contrasts"):
        handcrafted_features.multi_contrast_features({})


# ---------------------------------------------------------------- CNN embeddings


def small_classifier():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 6),
        nn.ReLU(),
        nn.Linear(6, 2),
    )


def test_cnn_embeddings_returns_penultimate_activations_in_order():
    model = small_classifier()
    images, _ = make_discs(n_per_class=10)
    tensor = conv_autoencoder.images_to_tensor(images)
    features = network_embeddings.cnn_embeddings(model, tensor, batch_size=7)
    assert features.shape == (20, 6)
    with torch.no_grad():
        expected = model[:6](tensor).numpy()
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)
    # the hook is removed afterwards and the training mode restored
    assert not model[6]._forward_pre_hooks
    assert model.training


def test_cnn_embeddings_from_dataloader_and_custom_layer():
    model = small_classifier()
    images, labels = make_discs(n_per_class=6)
    dataset = torch.utils.data.TensorDataset(
        conv_autoencoder.images_to_tensor(images), torch.as_tensor(labels)
    )
    loader = torch.utils.data.DataLoader(dataset, batch_size=5, shuffle=False)
    features = network_embeddings.cnn_embeddings(model, loader, layer=model[4])
    assert features.shape == (12, 16)


def test_cnn_embeddings_errors():
    with pytest.raises(ValueError, match="no nn.Linear"):
        network_embeddings.cnn_embeddings(
            nn.Sequential(nn.Conv2d(1, 1, 3)), torch.zeros(1, 1, 8, 8)
        )
    with pytest.raises(ValueError, match="empty"):
        network_embeddings.cnn_embeddings(small_classifier(), [])


# ---------------------------------------------------------------- maps and clusters


def test_pca_map_and_kmeans_recover_two_disc_sizes():
    images, labels = make_discs()
    table = handcrafted_features.classical_features(images)
    coordinates, explained = embedding_maps.pca_map(table)
    assert coordinates.shape == (len(images), 2)
    assert 0 < explained.sum() <= 1 and explained[0] >= explained[1]
    clusters = embedding_maps.kmeans_clusters(table, n_clusters=2)
    assert embedding_maps.cluster_agreement(labels, clusters) > 0.9


def test_cluster_agreement_ignores_numbering_and_scores_chance_near_zero():
    labels = np.repeat([0, 1, 2], 50)
    assert embedding_maps.cluster_agreement(labels, 2 - labels) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    assert abs(embedding_maps.cluster_agreement(labels, rng.integers(0, 3, labels.size))) < 0.05
    with pytest.raises(ValueError, match="same length"):
        embedding_maps.cluster_agreement(labels, labels[:-1])


def test_tsne_and_fallback_maps_separate_classes():
    images, labels = make_discs(n_per_class=25)
    table = handcrafted_features.classical_features(images)
    coordinates = embedding_maps.tsne_map(table, seed=0)
    assert coordinates.shape == (50, 2)
    clusters = embedding_maps.kmeans_clusters(coordinates, 2, scale=False)
    assert embedding_maps.cluster_agreement(labels, clusters) > 0.9
    coordinates, method = embedding_maps.umap_or_tsne_map(table, seed=0)
    assert method == ("UMAP" if embedding_maps.umap_available() else "t-SNE")
    assert coordinates.shape == (50, 2)


def test_tsne_small_sample_lowers_perplexity():
    coordinates = embedding_maps.tsne_map(np.random.default_rng(0).normal(size=(10, 4)))
    assert coordinates.shape == (10, 2)


def test_feature_matrix_errors():
    with pytest.raises(ValueError, match="NaN"):
        embedding_maps.pca_map(np.array([[1.0, np.nan], [2.0, 3.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="2-D"):
        embedding_maps.kmeans_clusters(np.zeros(5), 2)
    with pytest.raises(ValueError, match="n_clusters"):
        embedding_maps.kmeans_clusters(np.zeros((3, 2)), 5)


# ---------------------------------------------------------------- autoencoder


def test_images_to_tensor_layout_and_scaling():
    tensor = conv_autoencoder.images_to_tensor(np.full((2, 8, 8, 3), 255, dtype=np.uint8))
    assert tensor.shape == (2, 3, 8, 8) and tensor.dtype == torch.float32
    assert float(tensor.max()) == 1.0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        conv_autoencoder.images_to_tensor(np.full((2, 8, 8), 3.0))


def test_autoencoder_learns_to_reconstruct_discs():
    images, labels = make_discs(n_per_class=64, size=32)
    torch.manual_seed(0)
    model = conv_autoencoder.ConvAutoencoder(in_channels=1, image_size=32, latent_dim=4, width=8)
    history = conv_autoencoder.train_autoencoder(
        model, images, epochs=30, batch_size=16, learning_rate=5e-3, seed=0, show_progress=False
    )
    assert len(history) == 30
    # binary cross-entropy never reaches 0 on grey targets; the squared error below is the real check
    assert history[-1] < 0.8 * history[0]
    reconstructions = conv_autoencoder.reconstruct(model, images)
    assert reconstructions.shape == images.shape
    assert reconstructions.min() >= 0 and reconstructions.max() <= 1
    # the reconstruction is much closer to its own image than a constant mean image would be
    error = np.mean((reconstructions - images) ** 2)
    baseline = np.mean((images - images.mean(axis=0)) ** 2)
    assert error < 0.3 * baseline
    # the latent space separates the two disc sizes without being told about them
    latents = conv_autoencoder.encode(model, images)
    assert latents.shape == (len(images), 4)
    clusters = embedding_maps.kmeans_clusters(latents, 2)
    assert embedding_maps.cluster_agreement(labels, clusters) > 0.8


def test_autoencoder_does_not_collapse_on_masked_crops():
    """Crops that are zero outside the object (like NucleusNet) must not decode to black images."""
    images, _ = make_discs(n_per_class=64, size=32)
    images = np.where(images > 0.5, images, 0.0).astype(np.float32)
    torch.manual_seed(0)
    model = conv_autoencoder.ConvAutoencoder(in_channels=1, image_size=32, latent_dim=4, width=8)
    conv_autoencoder.train_autoencoder(
        model, images, epochs=60, batch_size=64, seed=0, show_progress=False
    )
    reconstructions = conv_autoencoder.reconstruct(model, images)
    assert reconstructions.max() > 0.5
    error = np.mean((reconstructions - images) ** 2)
    assert error < 0.3 * np.mean((images - images.mean(axis=0)) ** 2)


def test_latent_traversal_changes_one_coordinate():
    images, _ = make_discs(n_per_class=4, size=16)
    torch.manual_seed(0)
    model = conv_autoencoder.ConvAutoencoder(in_channels=1, image_size=16, latent_dim=3, width=4)
    grid, offsets = conv_autoencoder.latent_traversal(model, images[0], dims=[0, 2], n_steps=5)
    assert grid.shape == (2, 5, 16, 16)
    np.testing.assert_allclose(offsets[0], [-2, -1, 0, 1, 2])
    # the middle step (offset 0) is the plain reconstruction of the start image
    np.testing.assert_allclose(
        grid[0, 2], conv_autoencoder.reconstruct(model, images[:1])[0], atol=1e-6
    )
    # moving a latent coordinate changes the decoded image
    assert np.abs(grid[0, 0] - grid[0, 4]).max() > 0
    with pytest.raises(ValueError, match="dims"):
        conv_autoencoder.latent_traversal(model, images[0], dims=[3])


def test_autoencoder_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="multiple of 8"):
        conv_autoencoder.ConvAutoencoder(image_size=30)
    model = conv_autoencoder.ConvAutoencoder(in_channels=1, image_size=16, latent_dim=2, width=4)
    with pytest.raises(ValueError, match="expects images"):
        conv_autoencoder.encode(model, np.zeros((2, 32, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match="latents of shape"):
        conv_autoencoder.decode(model, np.zeros((2, 5)))
