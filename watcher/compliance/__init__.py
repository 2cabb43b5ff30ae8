"""Our own accounts' content: 错敏检查 of every new or edited post (:mod:`.checks`, run by
:mod:`.posts` from the watch analysis) and 矩阵联动, who relayed a key story and when
(:mod:`.linkage`)."""
