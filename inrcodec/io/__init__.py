"""Video in and out: PyAV input as YUV numpy frames (video) and YUV4MPEG2 output (y4m); no torch."""
