"""studies/qu_sun_2021."""
