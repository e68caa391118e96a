"""What goes in and out: frame sources (video, image folder, camera), result writers (boxes,
masks, overlays) and the atomic file handling every writer in the package goes through."""
