"""Care while waiting (Reg. 261/2004 Art. 9, UK261, APPR s. 14): meal, hotel and transfer vouchers as records."""
