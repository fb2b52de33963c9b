"""City operations closed loop (一网统管 · 高效处置一件事): incident cases from sensors, the 12345 hotline,
grid inspectors and Open311; classified, routed, handled, verified and closed within their time limits."""
