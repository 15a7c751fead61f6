"""Claims: the objects rules read (:mod:`.model`) and how segments become them (:mod:`.mapping`)."""
