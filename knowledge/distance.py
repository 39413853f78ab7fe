"""How far a question lies from each article's chunks, relative to the knowledge base as a whole.

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
# The within-article spread is taken as at least this share of the knowledge base's.
MIN_WITHIN_SCALE = 0.1


class RelativeDistance:
    """Per-article relative Mahalanobis distances, expanded so that a question costs one product.

    With ``P`` the within-article precision matrix, ``G`` the knowledge base's, ``m`` an
    article's mean and ``g`` the knowledge base's, the relative distance of ``q`` is::

        (q - m)' P (q - m) - (q - g)' G (q - g)
          = q' (P - G) q  +  q' (2 G g - 2 P m)  +  (m' P m - g' G g)

    so only ``P - G`` (one ``dim × dim`` matrix, kept in float32) meets the question twice.

    Args:
        quadratic: ``(dim, dim)`` ``P - G``.
        linear: ``(dim, classes)`` ``2 G g - 2 P m`` for each article.
        offset: ``(classes,)`` ``m' P m - g' G g`` for each article.
    """

    def __init__(
        self, quadratic: npt.NDArray[np.float32], linear: npt.NDArray[np.float32], offset: Array
    ) -> None:
        self.quadratic = quadratic
        self.linear = linear
        self.offset = offset

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
        spread = _covariance(data - overall)
        floor = MIN_WITHIN_SCALE * float(np.trace(spread)) / data.shape[1]
        # Articles of a single chunk say nothing about the spread within an article; when no
        # article has more, the knowledge base's own spread stands in for it.
        grouped = len(data) - len(classes) >= 2
        within_covariance = _covariance(data - means[index]) if grouped else spread
        within = _precision(within_covariance, shrinkage, floor)
        around = _precision(spread, shrinkage)
        projected = means @ within
        linear = 2.0 * (around @ overall)[:, None] - 2.0 * projected.T
        offset = (projected * means).sum(axis=1) - float(overall @ around @ overall)
        return cls(
            (within - around).astype(np.float32), linear.astype(np.float32), offset / data.shape[1]
        )

    def distances(self, vectors: npt.NDArray[np.floating]) -> Array:
        """``(len(vectors), classes)`` relative distances, per dimension: lower is closer."""
        data = np.asarray(vectors, dtype=np.float32)
        dim = data.shape[1]
        own = ((data @ self.quadratic) * data).sum(axis=1, keepdims=True)
        scaled = (own + data @ self.linear).astype(np.float64) / dim
        result: Array = scaled + self.offset
        return result

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        return {"quadratic": self.quadratic, "linear": self.linear, "offset": self.offset}


def _covariance(centered: Array) -> Array:
    result: Array = centered.T @ centered / max(len(centered), 1)
    return result


def _precision(covariance: Array, shrinkage: float, floor: float = 0.0) -> Array:
    """The inverse of ``covariance`` shrunk towards a scaled identity.

    ``floor`` is the least scale (mean variance) the identity takes, so that a covariance with
    almost no variance (articles of one or two chunks) cannot blow the distances up.
    """
    dim = covariance.shape[0]
    scale = max(float(np.trace(covariance)) / dim, floor) or 1.0
    shrunk = (1.0 - shrinkage) * covariance + shrinkage * scale * np.eye(dim)
    precision = np.linalg.inv(shrunk)
    symmetric: Array = (precision + precision.T) / 2.0
    return symmetric
