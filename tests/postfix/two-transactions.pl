#!/usr/bin/perl
# two-transactions.pl - one SMTP session, two mail transactions, RSET
# between (swaks sends one MAIL per session).  Uses only Net::SSLeay,
# which swaks needs anyway.
#
#   perl two-transactions.pl PORT CLIENT_PORT LOGIN PASSWORD
#
# Dialogue on 127.0.0.1:PORT from 127.0.0.1:CLIENT_PORT:
#   EHLO, STARTTLS, EHLO,
#   MAIL (no AUTH yet)                 -> printed as "MAIL 1 <reply>"
#   RSET, AUTH PLAIN LOGIN PASSWORD,
#   MAIL, RCPT, DATA, message          -> "MAIL 2 <reply>", "DATA <reply>"
#   QUIT
# Every line sent and received goes to stdout too ("C:" / "S:").
# Exit 0 when the dialogue ran to the end, whatever the replies.

use strict;
use warnings;
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use Net::SSLeay;

my ($port, $cport, $login, $password) = @ARGV;
die "usage: $0 PORT CLIENT_PORT LOGIN PASSWORD\n" unless defined $password;
$SIG{ALRM} = sub { die "timeout\n" };
alarm 30;

my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
    LocalAddr => '127.0.0.1', LocalPort => $cport, Proto => 'tcp',
    ReuseAddr => 1) or die "connect: $!\n";
my ($ssl, $buf) = (undef, '');

sub rd {
	my $data;
	if ($ssl) {
		$data = Net::SSLeay::read($ssl);
	} else {
		my $n = sysread($sock, $data, 4096);
		$data = undef unless $n;
	}
	die "connection closed\n" unless defined $data && length $data;
	$buf .= $data;
}

# reply - one whole (possibly multi-line) reply; returns its last line.
sub reply {
	while (1) {
		while ($buf =~ s/^(.*?)\r?\n//) {
			my $line = $1;
			print "S: $line\n";
			return $line if $line =~ /^\d{3}(?: |$)/;
		}
		rd();
	}
}

sub send_line {
	my ($line) = @_;
	print "C: $line\n";
	if ($ssl) {
		Net::SSLeay::write($ssl, "$line\r\n") > 0 or die "TLS write failed\n";
	} else {
		syswrite($sock, "$line\r\n") or die "write: $!\n";
	}
}

sub cmd { send_line($_[0]); return reply(); }

reply() =~ /^220/ or die "no greeting\n";
cmd("EHLO client-$cport.example") =~ /^250/ or die "EHLO refused\n";
cmd('STARTTLS') =~ /^220/ or die "STARTTLS refused\n";
Net::SSLeay::load_error_strings();
Net::SSLeay::SSLeay_add_ssl_algorithms();
my $ctx = Net::SSLeay::CTX_new() or die "CTX_new failed\n";
Net::SSLeay::CTX_set_verify($ctx, &Net::SSLeay::VERIFY_NONE, undef);
$ssl = Net::SSLeay::new($ctx) or die "SSL new failed\n";
Net::SSLeay::set_fd($ssl, fileno($sock));
Net::SSLeay::connect($ssl) == 1 or die "TLS handshake failed\n";
print "TLS ", Net::SSLeay::get_version($ssl), " ", Net::SSLeay::get_cipher($ssl), "\n";
cmd("EHLO client-$cport.example") =~ /^250/ or die "EHLO after STARTTLS refused\n";

print "MAIL 1 ", cmd('MAIL FROM:<alice@example.test>'), "\n";
cmd('RSET') =~ /^250/ or die "RSET refused\n";
my $cred = encode_base64("\0$login\0$password", '');
cmd("AUTH PLAIN $cred") =~ /^235/ or die "AUTH refused\n";
my $m2 = cmd('MAIL FROM:<alice@example.test>');
print "MAIL 2 $m2\n";
if ($m2 =~ /^250/) {
	cmd('RCPT TO:<bob@example.test>') =~ /^250/ or die "RCPT refused\n";
	cmd('DATA') =~ /^354/ or die "DATA refused\n";
	send_line("Subject: second transaction from port $cport");
	send_line('');
	send_line('two transactions, one session');
	print "DATA ", cmd('.'), "\n";
}
cmd('QUIT');
exit 0;
