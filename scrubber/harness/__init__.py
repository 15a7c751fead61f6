"""The vendor test harness: synthetic 837P (:mod:`.synth`), defect batches (:mod:`.generate`), manifests
and their comparison (:mod:`.expect`), and the pytest plugin (:mod:`.pytest_plugin`)."""
