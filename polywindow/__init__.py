"""polywindow."""
