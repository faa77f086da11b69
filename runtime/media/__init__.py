"""Media: speech-to-text, text-to-speech, vision/OCR, document text, storage."""
