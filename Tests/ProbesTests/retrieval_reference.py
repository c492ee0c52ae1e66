"""Reference values for RetrievalTests.swift, computed independently with NumPy and scikit-learn 1.9.1:
    python3 retrieval_reference.py
Passages, labels and the table are the ones the Swift test builds (table[i, j] = sin(0.7·i + 1.3·j), 10 × 4)."""
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import average_precision_score

passages = [[1, 2, 3, 4], [2, 3, 4, 1], [1, 1, 2, 9],      # work 0
            [5, 6, 7, 8], [6, 7, 8, 5], [5, 5, 0, 6],      # work 1
            [9, 0, 3, 7], [0, 9, 3, 7], [1, 2, 3, 4]]      # work 2 (its last passage duplicates work 0's first: a tie)
labels = [0, 0, 0, 1, 1, 1, 2, 2, 2]
table = np.array([[np.sin(0.7 * i + 1.3 * j) for j in range(4)] for i in range(10)], dtype=np.float32).astype(np.float64)

def mean_ap(sim):
    aps = []
    for q in range(len(passages)):
        docs = [d for d in range(len(passages)) if d != q]
        y = [labels[d] == labels[q] for d in docs]
        aps.append(average_precision_score(y, [sim[q, d] for d in docs]))
    return float(np.mean(aps))

pooled = np.array([table[p].mean(axis=0) for p in passages])
pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
print("table MAP", repr(mean_ap(pooled @ pooled.T)))

tfidf = TfidfVectorizer(analyzer=lambda ids: [str(t) for t in ids]).fit_transform(passages).toarray()
print("tfidf MAP", repr(mean_ap(tfidf @ tfidf.T)))
