"""How far a question lies from each article's questions, relative to the knowledge base as a whole.

The classifier's probability says which article wins, not whether the question belongs to any.
A question about a topic the knowledge base lacks can still give one article most of the
probability. The *relative Mahalanobis distance* (Ren et al., 2021, "A Simple Fix to Mahalanobis
Distance for Improving Near-OOD Detection") looks at the embedding itself:

* the squared Mahalanobis distance from the question to the article's mean, under the
  within-article covariance shared by all articles;
* minus its distance to the mean of the whole knowledge base, under the knowledge base's own
  covariance.

The second term cancels what is merely unusual about the question's wording, so what is left
measures how far it is from the article compared with the knowledge base in general. Both
covariances are shrunk towards a scaled identity, since articles have few chunks against 384
dimensions. The result is divided by the dimension, so that its scale does not depend on the
embedding model.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
SHRINKAGE = 0.5


class RelativeDistance:
    """Per-article relative Mahalanobis distances.

    Args:
        class_whitening: ``(dim, dim)`` factor ``L`` of the within-article precision matrix.
        class_means: ``(classes, dim)`` article means, already multiplied by ``L``.
        global_whitening: ``(dim, dim)`` factor of the whole knowledge base's precision matrix.
        global_mean: ``(dim,)`` the knowledge base's mean, already multiplied by that factor.
    """

    def __init__(
        self,
        class_whitening: Array,
        class_means: Array,
        global_whitening: Array,
        global_mean: Array,
    ) -> None:
        self.class_whitening = class_whitening
        self.class_means = class_means
        self.global_whitening = global_whitening
        self.global_mean = global_mean
        # One product whitens a question both ways.
        self._whitening = np.hstack([class_whitening, global_whitening])
        self._mean_norms = (class_means**2).sum(axis=1)

    @classmethod
    def fit(
        cls,
        vectors: npt.NDArray[np.floating],
        labels: npt.NDArray[np.str_],
        classes: npt.NDArray[np.str_],
        shrinkage: float = SHRINKAGE,
    ) -> RelativeDistance:
        """Fit on chunk vectors labelled with their article ids (``classes`` gives the order)."""
        data = np.asarray(vectors, dtype=np.float64)
        index = np.searchsorted(classes, labels)
        means = np.zeros((len(classes), data.shape[1]))
        np.add.at(means, index, data)
        means /= np.maximum(np.bincount(index, minlength=len(classes)), 1)[:, None]
        overall = data.mean(axis=0)
        whitening = _whitening(data - means[index], shrinkage)
        global_whitening = _whitening(data - overall, shrinkage)
        return cls(whitening, means @ whitening, global_whitening, overall @ global_whitening)

    def distances(self, vectors: npt.NDArray[np.floating]) -> Array:
        """``(len(vectors), classes)`` relative distances: lower is closer to that article."""
        data = np.asarray(vectors, dtype=np.float64)
        dim = data.shape[1]
        both = data @ self._whitening
        own, overall = both[:, :dim], both[:, dim:]
        to_class = (own**2).sum(axis=1, keepdims=True) - 2.0 * own @ self.class_means.T
        to_all = ((overall - self.global_mean) ** 2).sum(axis=1)
        result: Array = (to_class + self._mean_norms - to_all[:, None]) / dim
        return result

    def arrays(self) -> dict[str, Array]:
        return {
            "class_whitening": self.class_whitening,
            "class_means": self.class_means,
            "global_whitening": self.global_whitening,
            "global_mean": self.global_mean,
        }


def _whitening(centered: Array, shrinkage: float) -> Array:
    """A factor ``L`` with ``L @ L.T`` the inverse of the shrunk covariance of ``centered``."""
    dim = centered.shape[1]
    covariance = centered.T @ centered / max(len(centered), 1)
    scale = float(np.trace(covariance)) / dim or 1.0
    shrunk = (1.0 - shrinkage) * covariance + shrinkage * scale * np.eye(dim)
    factor: Array = np.linalg.cholesky(np.linalg.inv(shrunk))
    return factor
