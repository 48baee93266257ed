package seal

import (
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/rand"
	"testing"
)

// BenchmarkKEM measures what the choice of KEM costs per recipient:
// one HPKE seal (encapsulation) and one open (decapsulation) of a
// 32-byte content key, X25519 against the hybrid ML-KEM-768 + X25519
// (X-Wing). It reports the bytes each adds per recipient and per key
// entry. The figures are the basis of the choice stated in doc.go.
func BenchmarkKEM(b *testing.B) {
	for _, c := range []struct {
		name string
		kem  hpke.KEM
	}{
		{"x25519", hpke.DHKEM(ecdh.X25519())},
		{"mlkem768x25519", hpke.MLKEM768X25519()},
	} {
		priv, err := c.kem.GenerateKey()
		if err != nil {
			b.Fatal(err)
		}
		pub := priv.PublicKey()
		key := make([]byte, 32)
		rand.Read(key)
		info := []byte("bench")
		ct, err := hpke.Seal(pub, hpke.HKDFSHA256(), hpke.AES256GCM(), info, key)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/seal", func(b *testing.B) {
			for b.Loop() {
				if _, err := hpke.Seal(pub, hpke.HKDFSHA256(), hpke.AES256GCM(), info, key); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(ct)), "wrap-B")
			b.ReportMetric(float64(len(pub.Bytes())), "pubkey-B")
		})
		b.Run(c.name+"/open", func(b *testing.B) {
			for b.Loop() {
				if _, err := hpke.Open(priv, hpke.HKDFSHA256(), hpke.AES256GCM(), info, ct); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
