"""What every exported report shares: fonts and safe text for PDFs."""
