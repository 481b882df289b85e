"""The built-in intent model: character n-gram TF-IDF and a linear SVM, calibrated.

Training uses scikit-learn (TF-IDF over `features`, a one-vs-rest linear SVM, temperature scaling
and a fallback threshold fitted on cross-validated predictions of the training data only).
Prediction needs only numpy: the fitted vocabulary, idf weights and coefficients are kept as
plain arrays, so loading is a few milliseconds and nothing is ever unpickled. The model is
cached (`.npz`, no pickle) under a key made of the training data, this module's format
version and the library versions. Only training data is ever written; never user text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from importlib import metadata
from itertools import pairwise
from pathlib import Path

import numpy as np

from nlu._data import TRAIN_PATH, load_nlu
from nlu._normalise import normalise_arabic

__all__ = ["IntentModel", "default_cache_dir", "features", "is_cached", "load_or_train"]

log = logging.getLogger(__name__)

FORMAT = "sanad-intent-model-1"
CHAR_RANGE = (2, 5)
_C = 0.5  # inverse regularisation, chosen by cross-validation on the training data
_FOLDS = 5


def features(normalised: str) -> list[str]:
    """Features of normalised text: char n-grams inside word boundaries, words, word pairs.

    Digits used as letters in Arabizi ("3", "7", "2") are letters here: they are kept as they
    are, so "la2" and "3ayez" get their own n-grams.
    """
    words = normalised.split()
    out: list[str] = []
    lo, hi = CHAR_RANGE
    for w in words:
        padded = f" {w} "
        size = len(padded)
        for n in range(lo, hi + 1):
            if n > size:
                break
            out.extend(padded[i : i + n] for i in range(size - n + 1))
    out.extend("w:" + w for w in words)
    out.extend(f"b:{a} {b}" for a, b in pairwise(words))
    if len(words) <= 3:
        out.append(f"len:{len(words)}")
    return out


def _prepare(text: str) -> str:
    return " ".join(normalise_arabic(text).replace("?", " ? ").replace("؟", " ? ").split())


@dataclass(frozen=True)
class IntentModel:
    """A fitted linear intent model, as plain arrays."""

    labels: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_features, n_labels), float32
    intercept: np.ndarray  # (n_labels,)
    temperature: float
    threshold: float

    def probabilities(self, text: str) -> np.ndarray:
        """Calibrated probability of each label (in `labels` order) for raw `text`."""
        counts = Counter(f for f in features(_prepare(text)) if f in self.vocabulary)
        scores = self.intercept.astype(np.float64)
        if counts:
            idx = np.fromiter(
                (self.vocabulary[f] for f in counts), dtype=np.int64, count=len(counts)
            )
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            vals = (1.0 + np.log(tf)) * self.idf[idx]
            vals /= math.sqrt(float(vals @ vals))
            scores = scores + vals @ self.coef[idx]
        z = scores / self.temperature
        z -= z.max()
        e = np.exp(z)
        probs: np.ndarray = e / e.sum()
        return probs

    def ranking(self, text: str) -> list[tuple[str, float]]:
        """Labels with their probabilities, most likely first."""
        probs = self.probabilities(text)
        order = np.argsort(-probs)
        return [(self.labels[i], float(probs[i])) for i in order]

    # ---- storage --------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write atomically (several processes may train at once)."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        vocab = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {
            "format": FORMAT,
            "labels": list(self.labels),
            "temperature": self.temperature,
            "threshold": self.threshold,
        }
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(
                    out,
                    vocab=np.array(vocab, dtype=str),
                    idf=self.idf,
                    coef=self.coef,
                    intercept=self.intercept,
                    meta=np.array(json.dumps(meta)),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError("unknown model format")
            vocab = z["vocab"].tolist()
            return cls(
                tuple(meta["labels"]),
                {v: i for i, v in enumerate(vocab)},
                z["idf"],
                z["coef"],
                z["intercept"],
                float(meta["temperature"]),
                float(meta["threshold"]),
            )


# ---- training ------------------------------------------------------------------------------


def train(examples: tuple[tuple[str, str], ...], *, fallback_label: str) -> IntentModel:
    """Fit the model on (text, intent) pairs; needs scikit-learn."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    texts = [_prepare(t) for t, _ in examples]
    y_names = [i for _, i in examples]
    labels = tuple(sorted(set(y_names)))
    y = np.array([labels.index(n) for n in y_names])

    def fit(xs: list[str], ys: np.ndarray) -> tuple[TfidfVectorizer, LinearSVC]:
        vec = TfidfVectorizer(
            analyzer=features, sublinear_tf=True, lowercase=False, dtype=np.float64
        )
        mat = vec.fit_transform(xs)
        clf = LinearSVC(C=_C, max_iter=20000)
        clf.fit(mat, ys)
        return vec, clf

    # Cross-validated scores of the training data calibrate confidence and the threshold.
    oof = np.zeros((len(texts), len(labels)))
    folds = StratifiedKFold(n_splits=_FOLDS, shuffle=True, random_state=4)
    for tr, te in folds.split(texts, y):
        vec, clf = fit([texts[i] for i in tr], y[tr])
        oof[te] = clf.decision_function(vec.transform([texts[i] for i in te]))
    temperature = _fit_temperature(oof, y)
    probs = _softmax(oof / temperature)
    threshold = _pick_threshold(probs, y, labels.index(fallback_label))

    vec, clf = fit(texts, y)
    vocab: dict[str, int] = {str(k): int(v) for k, v in vec.vocabulary_.items()}
    return IntentModel(
        labels,
        vocab,
        vec.idf_.astype(np.float64),
        np.ascontiguousarray(clf.coef_.T, dtype=np.float32),
        clf.intercept_.astype(np.float64),
        temperature,
        threshold,
    )


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the log loss of held-out scores (a 1-D search)."""
    best_t, best_loss = 1.0, math.inf
    for t in np.exp(np.linspace(math.log(0.05), math.log(5.0), 200)):
        p = _softmax(scores / t)[np.arange(len(y)), y]
        loss = float(-np.log(np.clip(p, 1e-12, None)).mean())
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    return best_t


def _pick_threshold(probs: np.ndarray, y: np.ndarray, fallback: int) -> float:
    """The confidence under which to answer `nlu_fallback`, maximising held-out macro-F1."""
    best_t, best_f1 = 0.3, -1.0
    top = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    for t in np.arange(0.15, 0.71, 0.01):
        pred = np.where(conf >= t, top, fallback)
        f1 = _macro_f1(y, pred, probs.shape[1])
        if f1 > best_f1 + 1e-9:
            best_t, best_f1 = float(t), f1
    return round(best_t, 2)


def _macro_f1(y: np.ndarray, pred: np.ndarray, n: int) -> float:
    scores = []
    for c in range(n):
        tp = float(np.sum((pred == c) & (y == c)))
        fp = float(np.sum((pred == c) & (y != c)))
        fn = float(np.sum((pred != c) & (y == c)))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


# ---- cache ---------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """`SANAD_NLU_CACHE`, else `$XDG_CACHE_HOME/sanad/nlu`, else `~/.cache/sanad/nlu`."""
    explicit = os.environ.get("SANAD_NLU_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sanad" / "nlu"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def cache_key(data: bytes) -> str:
    """Hash of the training data, the model format, this module and the library versions."""
    h = hashlib.sha256()
    for part in (FORMAT, _version("scikit-learn"), _version("numpy"), str(_C), str(CHAR_RANGE)):
        h.update(part.encode() + b"\0")
    h.update(Path(__file__).read_bytes())
    h.update(Path(__file__).with_name("_normalise.py").read_bytes())
    h.update(data)
    return h.hexdigest()[:24]


def is_cached(train_path: Path = TRAIN_PATH, cache_dir: Path | None = None) -> bool:
    """Whether the model for `train_path` is already trained and cached."""
    key = cache_key(train_path.read_bytes())
    return ((cache_dir or default_cache_dir()) / f"intent-{key}.npz").exists()


def load_or_train(
    train_path: Path = TRAIN_PATH,
    cache_dir: Path | None = None,
    *,
    fallback_label: str = "out_of_scope",
) -> IntentModel:
    """The cached model for `train_path`, training and caching it on first use."""
    data = train_path.read_bytes()
    cache = (cache_dir or default_cache_dir()) / f"intent-{cache_key(data)}.npz"
    if cache.exists():
        try:
            return IntentModel.load(cache)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable NLU model cache (%s); retraining", type(exc).__name__)
    model = train(load_nlu(train_path).examples, fallback_label=fallback_label)
    try:
        model.save(cache)
    except OSError as exc:
        log.warning("could not cache the NLU model (%s); it stays in memory", type(exc).__name__)
    return model
