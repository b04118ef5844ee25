"""What the target cluster is: platform detection, platform profiles, run metadata, kubeconfig checks (pure)."""
