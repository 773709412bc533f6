"""Rich renderables built from plain results; `render.Renderer` prints them."""
