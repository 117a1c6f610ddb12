"""2-D maps and clusters of feature tables or embeddings (lectures 9-10).

PCA, t-SNE and UMAP (when ``umap-learn`` is installed) maps (:func:`pca_map`,
:func:`tsne_map`, :func:`umap_or_tsne_map`), k-means clusters (:func:`kmeans_clusters`) and
their agreement with known labels (:func:`cluster_agreement`, the adjusted Rand index).
"""

from __future__ import annotations

import importlib.util

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

__all__ = [
    "cluster_agreement",
    "kmeans_clusters",
    "pca_map",
    "standardize",
    "tsne_map",
    "umap_available",
    "umap_or_tsne_map",
]


def _as_feature_matrix(features) -> np.ndarray:
    """Return ``features`` (array or DataFrame) as a finite float matrix ``(n_samples, n_features)``."""
    matrix = np.asarray(features, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(
            f"expected a 2-D feature matrix (n_samples, n_features), got {matrix.shape}"
        )
    if matrix.shape[0] < 2:
        raise ValueError("need at least two samples to build a map or clusters")
    if not np.all(np.isfinite(matrix)):
        bad_rows = np.flatnonzero(~np.all(np.isfinite(matrix), axis=1))
        raise ValueError(
            f"the feature matrix has NaN or infinite values in rows {bad_rows[:10].tolist()}"
            f"{' ...' if bad_rows.size > 10 else ''}; drop or fill them first"
        )
    return matrix


def standardize(features) -> np.ndarray:
    """Scale each feature to zero mean and unit variance (so that no unit dominates distances)."""
    return StandardScaler().fit_transform(_as_feature_matrix(features))


def pca_map(features, n_components: int = 2, scale: bool = True):
    """Project features on their first principal components.

    Returns
    -------
    coordinates : numpy.ndarray
        ``(n, n_components)``.
    explained_variance_ratio : numpy.ndarray
        The fraction of the total variance carried by each component.
    """
    matrix = standardize(features) if scale else _as_feature_matrix(features)
    n_components = min(n_components, *matrix.shape)
    pca = PCA(n_components=n_components, random_state=0)
    coordinates = pca.fit_transform(matrix)
    return coordinates, pca.explained_variance_ratio_


def tsne_map(features, perplexity: float = 30.0, seed: int = 0, scale: bool = True, pca_dims=50):
    """A 2-D t-SNE map (van der Maaten and Hinton 2008), after optional scaling and PCA to ``pca_dims``.

    The perplexity (roughly, the number of neighbours each point tries to keep close) is lowered
    automatically for small data sets, where it must stay below the number of samples.
    """
    matrix = standardize(features) if scale else _as_feature_matrix(features)
    if pca_dims is not None and matrix.shape[1] > pca_dims:
        matrix = PCA(n_components=min(pca_dims, matrix.shape[0]), random_state=seed).fit_transform(
            matrix
        )
    perplexity = float(min(perplexity, max(2.0, (matrix.shape[0] - 1) / 3)))
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(matrix)


def umap_available() -> bool:
    """True when the optional ``umap-learn`` package can be imported."""
    return importlib.util.find_spec("umap") is not None


def umap_or_tsne_map(features, seed: int = 0, n_neighbors: int = 15, scale: bool = True):
    """A 2-D UMAP map (McInnes et al. 2018) if ``umap-learn`` is installed, else a t-SNE map.

    Prints which method it used.

    Returns
    -------
    coordinates : numpy.ndarray
        ``(n, 2)``.
    method : str
        ``"UMAP"`` or ``"t-SNE"``.
    """
    if umap_available():
        import umap

        matrix = standardize(features) if scale else _as_feature_matrix(features)
        n_neighbors = int(min(n_neighbors, matrix.shape[0] - 1))
        reducer = umap.UMAP(n_neighbors=n_neighbors, random_state=seed)
        print("Map made with UMAP (umap-learn is installed).")
        return reducer.fit_transform(matrix), "UMAP"
    print(
        "umap-learn is not installed, so this map is a t-SNE map instead "
        "(`pip install umap-learn` to get UMAP)."
    )
    return tsne_map(features, seed=seed, scale=scale), "t-SNE"


def kmeans_clusters(features, n_clusters: int, seed: int = 0, scale: bool = True) -> np.ndarray:
    """Group samples into ``n_clusters`` clusters with k-means; returns one integer label per sample."""
    matrix = standardize(features) if scale else _as_feature_matrix(features)
    if not 1 <= n_clusters <= matrix.shape[0]:
        raise ValueError(f"n_clusters must be between 1 and {matrix.shape[0]}, got {n_clusters}")
    return KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit_predict(matrix)


def cluster_agreement(true_labels, cluster_labels) -> float:
    """Adjusted Rand index between known labels and clusters: 1 = identical grouping, ~0 = chance.

    The ARI ignores the cluster numbering (cluster 3 may be class 0), and is corrected for chance, so
    random clusters score about 0 whatever the number of clusters.
    """
    true_labels = np.asarray(true_labels)
    cluster_labels = np.asarray(cluster_labels)
    if true_labels.shape != cluster_labels.shape or true_labels.ndim != 1:
        raise ValueError(
            f"need two 1-D label arrays of the same length, got {true_labels.shape} "
            f"and {cluster_labels.shape}"
        )
    return float(adjusted_rand_score(true_labels, cluster_labels))
