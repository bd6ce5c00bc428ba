"""Browser-facing pages: the hosted checkout and the embed script."""
